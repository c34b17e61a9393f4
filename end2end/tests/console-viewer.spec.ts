import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { TransactionPage } from '../pages/TransactionPage';

const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const viewer = process.env.QRPAY_E2E_VIEWER ?? 'e2e-viewer';
const password = process.env.QRPAY_E2E_PASSWORD;

for (const javaScriptEnabled of [true, false]) {
  test.describe(`a viewer with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('sees a paid payment but cannot refund it, not even with a forged form post', async ({ page, request, baseURL }) => {
      expect(tillKey, 'QRPAY_E2E_TILL_KEY (run.sh sets it)').toBeTruthy();
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      const auth = { Authorization: `Bearer ${tillKey}` };
      const created = await request.post('/api/v1/payments', {
        headers: { ...auth, 'Idempotency-Key': `e2e-viewer-${Date.now()}-${Math.random()}` },
        data: { amount: 3000, receipt: `e2e-viewer-${javaScriptEnabled ? 'js' : 'nojs'}-${Date.now()}` },
      });
      expect(created.status()).toBe(201);
      const { id } = await created.json();
      expect((await request.post(`/api/v1/sandbox/payments/${id}/pay`, { headers: auth })).status()).toBe(200);

      await page.goto('/console/login');
      await new LoginPage(page).signIn(viewer, password!);
      await expect(page.getByTestId('current-user')).toContainText(viewer);
      await page.goto(`/console/transactions/${id}`);
      const detail = new TransactionPage(page);
      await expect(detail.status).toHaveText('оплачена');
      await expect(detail.refundForm).toHaveCount(0);
      await expect(page.getByTestId('nav-audit')).toHaveCount(0);

      // The form the viewer does not see, posted anyway with the viewer's session cookie.
      const forged = await page.request.post('/console/fn/refund_payment', {
        headers: { Accept: 'text/html', Origin: baseURL!, Referer: `${baseURL}/console/transactions/${id}` },
        form: { payment_id: id, mode: 'full', amount: '', reason: 'viewer', nonce: `forged-${Date.now()}`, confirmed: 'on' },
        maxRedirects: 0,
      });
      expect([302, 303]).toContain(forged.status());
      const err = new URL(forged.headers()['location'], baseURL).searchParams.get('__err');
      expect(err, 'the refusal travels back in __err').toBeTruthy();
      expect(Buffer.from(err!, 'base64url').toString()).toContain('Forbidden');

      const after = await request.get(`/api/v1/payments/${id}`, { headers: auth });
      const body = await after.json();
      expect(body.status).toBe('paid');
      expect(body.refunded_amount ?? 0).toBe(0);
    });

    test('picks another store in the header; the first store\'s payment is then not found there', async ({ page, request }) => {
      const auth = { Authorization: `Bearer ${tillKey}` };
      const created = await request.post('/api/v1/payments', {
        headers: { ...auth, 'Idempotency-Key': `e2e-store-${Date.now()}-${Math.random()}` },
        data: { amount: 1500, receipt: `e2e-store-${Date.now()}` },
      });
      expect(created.status()).toBe(201);
      const { id } = await created.json();

      await page.goto('/console/login');
      await new LoginPage(page).signIn(viewer, password!);
      await page.goto(`/console/transactions/${id}`);
      await expect(page.getByTestId('payment-id')).toHaveText(id);
      // run.sh adds a second store, so the header has a picker.
      await page.getByTestId('store-select').selectOption({ label: 'E2E Север (e2e-north)' });
      await page.getByTestId('store-choose').click();
      await expect(page.getByTestId('store-select')).toHaveValue(/\d+/);
      await expect(page.getByTestId('detail-error')).toBeVisible();
      const picked = await page.getByTestId('store-select').inputValue();
      expect(await page.locator(`[data-testid=store-select] option[value="${picked}"]`).textContent()).toContain('e2e-north');
      // And back: the payment is there again.
      await page.getByTestId('store-select').selectOption({ label: 'Магазин (main)' });
      await page.getByTestId('store-choose').click();
      await expect(page.getByTestId('payment-id')).toHaveText(id);
    });
  });
}
