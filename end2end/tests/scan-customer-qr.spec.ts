import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { PaymentTypesPage } from '../pages/SettingsPages';
import { ConsoleMenu } from '../pages/ConsoleMenu';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;
const tillKey = process.env.QRPAY_E2E_TILL_KEY;

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`«Сканировать QR-код покупателя» with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('a payment type that scans the customer\'s code, then a till pays with it', async ({ page, request }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      expect(tillKey, 'QRPAY_E2E_TILL_KEY (run.sh sets it)').toBeTruthy();
      const typeName = `Скан ${mode}-${Date.now()}`;
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);
      await new ConsoleMenu(page).openSettings('nav-payment-types');

      // Beside the flag: which modules can do it (the sandbox; not Raiffeisen).
      const types = new PaymentTypesPage(page);
      const hint = page.getByTestId('scan-hint');
      await expect(hint).toContainText('sandbox');
      await expect(hint).not.toContainText('raiffeisen');

      // Raiffeisen cannot read a customer's code: the flag is refused beside it, nothing saved.
      await types.name.fill(typeName);
      await types.module.fill('raiffeisen');
      await types.scan.check();
      await types.submit();
      await expect(types.error('scan_customer_qr')).toContainText('не умеет принимать QR-код покупателя');
      await expect(types.name).toHaveValue(typeName);
      await expect(types.row(typeName)).toHaveCount(0);
      await page.screenshot({ path: `/tmp/e2e-scan-refused-${mode}.png`, fullPage: true });

      await types.module.fill('sandbox');
      await types.scan.check();
      await types.submit();
      await expect(types.notice).toHaveText('Сохранено.');
      await expect(types.row(typeName).getByTestId('scan')).toHaveText('да');
      await page.screenshot({ path: `/tmp/e2e-scan-saved-${mode}.png`, fullPage: true });

      // The till scans the customer's code: the answer is final, with no QR to show.
      const auth = { Authorization: `Bearer ${tillKey}` };
      const pay = (receipt: string, code: string) =>
        request.post('/api/v1/payments', {
          headers: { ...auth, 'Idempotency-Key': `e2e-scan-${receipt}` },
          data: { amount: 4711, receipt, payment_type: typeName, customer_qr: code },
        });
      const receipt = `scan-${mode}-${Date.now()}`;
      const paid = await pay(receipt, 'sandbox-ok-e2e');
      expect(paid.status()).toBe(201);
      const payment = await paid.json();
      expect(payment.status).toBe('paid');
      expect(payment.qr).toBeNull();
      expect(payment.outputs).toBeUndefined();

      const declined = await (await pay(`${receipt}-d`, 'sandbox-decline-e2e')).json();
      expect(declined.status).toBe('declined');

      const foreign = await pay(`${receipt}-x`, 'not-a-sandbox-code');
      expect(foreign.status()).toBe(422);
      const error = (await foreign.json()).error;
      expect([error.code, error.field]).toEqual(['invalid_field', 'customer_qr']);
      expect(error.message).toContain('QR-код покупателя');

      // The payment is in the console like any other.
      await page.goto(`/console/transactions/${payment.id}`);
      await expect(page.locator('main')).toContainText(receipt);
      await expect(page.locator('main')).toContainText(typeName);
      await page.screenshot({ path: `/tmp/e2e-scan-transaction-${mode}.png`, fullPage: true });
    });
  });
}
