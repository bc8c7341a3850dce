// The hosted page of every other simulated provider, driven by a person in headless Chromium:
// Stripe onboarding, the Smile link, and the IDmeta multi-step page. Each click must end in the
// right verification status through the real webhook path.
import t from 'tap';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

const THREE_STEP_TEMPLATE = '306';

async function open(browser: Browser, url: string) {
  const page = await browser.newPage();
  await page.goto(url);
  return page;
}

const statusOf = (stack: Stack, id: string, done: (body: any) => boolean, timeoutMs = 20_000) =>
  eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => done(r.body),
    { timeoutMs },
  );

t.test('hosted pages in Chromium', async (t) => {
  const stack = await startStack(t);
  const browser = await launchBrowser(t);

  t.test('Stripe onboarding: Submit details, then Verify -> approved', async (t) => {
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'stripe', reference: 'consultant-1' },
      { prefer: 'wait=15' },
    );
    t.equal(created.status, 201);
    const page = await open(browser, created.body.sessionUrl);
    await page.getByTestId('submit-details').click();
    await page.waitForLoadState();
    t.match(await page.getByTestId('action-result').textContent(), /submit/);
    t.match((await statusOf(stack, created.body.id, (b) => b.status === 'in_progress')).body, { providerStatus: 'pending' });
    // The link was used once; the dashboard view of the same account still has the buttons.
    await page.goto(
      `${stack.sandboxUrl}/stripe/onboarding/${(await stack.request('GET', `/v1/verifications/${created.body.id}`)).body.providerRef}`,
    );
    await page.getByTestId('verify').click();
    await page.waitForLoadState();
    const done = await statusOf(stack, created.body.id, (b) => b.status === 'approved');
    t.match(done.body, { status: 'approved', providerStatus: 'active' });
  });

  t.test('Smile link: Reject -> declined with the result code', async (t) => {
    const created = await stack.request('POST', '/v1/verifications', { provider: 'smileid' }, { prefer: 'wait=15' });
    t.equal(created.status, 201);
    const page = await open(browser, created.body.sessionUrl);
    t.equal(await page.getByTestId('job-id').textContent(), created.body.id, 'the link carries our verification id as job_id');
    await page.getByTestId('reject').click();
    await page.waitForLoadState();
    t.match(await page.getByTestId('decision-result').textContent(), /1013/);
    const done = await statusOf(stack, created.body.id, (b) => b.status === 'declined');
    t.match(done.body, { status: 'declined', providerStatus: '1013' });
  });

  t.test('IDmeta multi-step page: the steps are listed; choosing Rejected -> declined', async (t) => {
    // Hold the second step so the person reaches the end of the page before the workflow does.
    const chaos = (failures: number) =>
      fetch(`${stack.sandboxUrl}/idmeta/admin/chaos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures }),
      }).then((r) => r.text());
    await chaos(1000);
    t.teardown(() => chaos(0));
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE },
      { prefer: 'wait=15' },
    );
    t.equal(created.status, 201);
    const page = await open(browser, created.body.sessionUrl);
    t.equal(await page.locator('[data-testid^="step-"]').count(), 3, 'three steps listed');
    await page.getByTestId('outcome-rejected').click();
    await page.waitForLoadState();
    await chaos(0);
    const providerRef = new URL(created.body.sessionUrl).pathname.split('/').at(-1)!;
    await fetch(`${stack.sandboxUrl}/idmeta/admin/chaos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ verification_id: providerRef, step: 'selfie', failures: 0 }),
    }).then((r) => r.text());
    const done = await statusOf(stack, created.body.id, (b) => b.status === 'declined', 40_000);
    t.match(done.body, { status: 'declined', providerStatus: 'REJECTED' });
  });
});
