import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { TransactionPage } from '../pages/TransactionPage';

// Issue 12: a crafted link shows no refund confirmation (the real one refunds what it shows),
// and no console page logs a Content-Security-Policy violation with JavaScript on.

const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

async function payment(request: APIRequestContext, amount: number, pay: boolean): Promise<string> {
  const auth = { Authorization: `Bearer ${tillKey}` };
  const created = await request.post('/api/v1/payments', {
    headers: { ...auth, 'Idempotency-Key': `e2e-sec-${Date.now()}-${Math.random()}` },
    data: { amount, receipt: `e2e-sec-${Date.now()}` },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  if (pay) {
    const paid = await request.post(`/api/v1/sandbox/payments/${id}/pay`, { headers: auth });
    expect(paid.status()).toBe(200);
  }
  return id;
}

/** The `__err` a server function would put into its redirect, forged. */
function forgedError(values: [string, string][]): string {
  const json = JSON.stringify({ Invalid: { form: 'RefundNeedsConfirm', fields: [], values } });
  const b64 = Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  return encodeURIComponent(b64);
}

async function signIn(page: Page) {
  await page.goto('/console/login');
  await new LoginPage(page).signIn(login, password!);
  await expect(page).toHaveURL(/\/console$/);
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`forged links with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('a crafted link shows no confirmation; the real one refunds what it shows', async ({ page, request }) => {
      const id = await payment(request, 50_000, true);
      await signIn(page);
      const err = forgedError([
        ['confirm_amount', '1'],
        ['mode', 'part'],
        ['amount', '123,45'],
        ['nonce', 'evilnonce1'],
      ]);
      await page.goto(`/console/transactions/${id}?__path=%2Fconsole%2Ffn%2Frefund_payment&__err=${err}`);
      const detail = new TransactionPage(page);
      await expect(detail.refundForm).toBeVisible();
      await expect(detail.refundQuestion).toHaveCount(0);

      await detail.askPartRefund('12,50', 'e2e: security');
      await expect(detail.refundQuestion).toHaveText('Вернуть 12,50\u00a0₽?');
      await detail.refundConfirm.click();
      await expect(detail.refundDone).toBeVisible();
      await expect(detail.refunded).toHaveText('12,50\u00a0₽');
    });
  });
}

test.describe('Content-Security-Policy with JavaScript on', () => {
  test.use({ javaScriptEnabled: true, locale: 'ru-RU' });

  test('no page logs a CSP violation', async ({ page, request }) => {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Content-Security-Policy/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`);
    });
    const paid = await payment(request, 1_000, true);
    const waiting = await payment(request, 2_000, false);
    await page.goto('/console/login');
    await signIn(page);
    for (const path of [
      '/console',
      '/console/transactions',
      `/console/transactions/${paid}`,
      '/console/store',
      '/console/auth-servers',
      '/console/payment-types',
      '/console/tills',
      '/console/modules',
      '/console/users',
      '/console/audit',
      '/console/nowhere',
      `/pay/${waiting}`,
      `/pay/${paid}`,
    ]) {
      await page.goto(path);
      await page.waitForLoadState('load');
    }
    expect(violations).toEqual([]);
  });
});
