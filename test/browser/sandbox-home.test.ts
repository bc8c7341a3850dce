// The sandbox home page at a common laptop width: its tables stay inside the card, every chaos
// button is legible, and each simulated session links to veriflow's own view of it.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startSandbox } from '../../sandbox/server.ts';
import { launchBrowser } from '../helpers/browser.ts';

const PERSONA = { apiKey: 'home_persona_key', webhookSecret: 'home_persona_secret' };
const STRIPE = { secretKey: 'sk_test_home', webhookSecret: 'whsec_home' };

/** WCAG relative luminance contrast of two `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, bl] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

t.test('sandbox home page at 1200 px', async (t) => {
  const verificationLink = (id: string) => `http://127.0.0.1:8233/namespaces/default/workflows/verification-${id}`;
  const sandbox = await startSandbox({ webhookTargets: {}, secrets: { persona: PERSONA, stripe: STRIPE }, verificationLink });
  t.teardown(() => sandbox.close());
  const verificationId = randomUUID();
  const created = await fetch(`${sandbox.url}/api/v1/inquiries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PERSONA.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data: { attributes: { 'inquiry-template-id': 'itmpl_home', 'reference-id': verificationId } } }),
  });
  t.equal(created.status, 201, 'an inquiry to list');
  await created.text();
  const account = await fetch(`${sandbox.url}/v1/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${STRIPE.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ type: 'express', 'metadata[verification_id]': verificationId }),
  });
  t.equal(account.status, 200, 'an account to list');
  await account.text();

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(sandbox.url);
  await page.screenshot({ path: t.testdir() + '/home.png', fullPage: true });

  const card = (await page.locator('main').boundingBox())!;
  const tables = await page.locator('table').all();
  const overflow = await Promise.all(
    tables.map(async (table) =>
      Math.round((await table.boundingBox())!.x + (await table.evaluate((el) => el.scrollWidth)) - (card.x + card.width)),
    ),
  );
  t.equal(overflow.length, 2, 'both tables are on the page');
  t.ok(
    overflow.every((px) => px <= 0),
    `no table sticks out of the card (px beyond its right edge: ${overflow.join(', ')})`,
  );

  // A string, evaluated in the page: the test compiles without the DOM typings.
  const buttons = (await page.evaluate(
    `[...document.querySelectorAll('button[name="mode"]')].map((b) => ({ mode: b.value, color: getComputedStyle(b).color, background: getComputedStyle(b).backgroundColor }))`,
  )) as { mode: string; color: string; background: string }[];
  t.equal(buttons.length, 5, 'every chaos mode has a button');
  for (const button of buttons)
    t.ok(
      contrast(button.color, button.background) >= 4.5,
      `chaos button ${button.mode}: text ${button.color} on ${button.background} is legible`,
    );

  const links = await page.$$eval('a[data-testid="verification-link"]', (all) => all.map((a) => a.getAttribute('href')));
  t.same(
    links,
    [verificationLink(verificationId), verificationLink(verificationId)],
    'the inquiry and the account link to veriflow’s view of their verification',
  );
});
