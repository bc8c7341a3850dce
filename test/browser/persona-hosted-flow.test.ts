// The flow a person follows: create through the API, open the sessionUrl in a real browser,
// click Approve, and read the result back from the API.
import t from 'tap';
import { launchBrowser } from '../helpers/browser.ts';
import { eventually, startStack } from '../helpers/stack.ts';

t.test('persona hosted flow in Chromium: open sessionUrl, click Approve, GET shows approved', async (t) => {
  const stack = await startStack(t);
  const browser = await launchBrowser(t);
  const created = await stack.request(
    'POST',
    '/v1/verifications',
    { provider: 'persona', reference: 'browser-user' },
    { prefer: 'wait=15' },
  );
  t.equal(created.status, 201);

  const page = await browser.newPage();
  await page.goto(created.body.sessionUrl);
  t.equal(await page.getByTestId('inquiry-status').textContent(), 'created', 'the hosted flow shows the new inquiry');
  await page.getByTestId('approve').click();
  await page.waitForLoadState();
  t.match(await page.textContent('body'), /approved/i, 'the page confirms the decision');
  await page.screenshot({ path: '.tap/persona-hosted-flow.png' });

  const done = await eventually(
    () => stack.request('GET', `/v1/verifications/${created.body.id}`),
    (r) => r.body.status === 'approved',
  );
  t.equal(done.body.status, 'approved');
  t.match(done.body.result.document, { type: 'national_id', number: /.+/ });
  t.ok(
    done.body.history.some((h: { source: string; to: string }) => h.source === 'webhook' && h.to === 'approved'),
    'history shows the webhook that approved it',
  );
});
