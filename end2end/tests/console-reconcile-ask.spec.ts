import { test, expect } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { LoginPage } from '../pages/LoginPage';
import { ModulesPage } from '../pages/ModulesPage';
import { registry } from '../pages/registry';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;
const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const bin = process.env.QRPAY_E2E_BIN;
const bank = '127.0.0.1:3197';
const merchant = 'MA0000000552';
const secret = 'eyJ.e2e-ask-bank';

let emulator: ChildProcess | undefined;

// A bank emulator whose notifications are all lost, and a payment type on it: the customer
// pays a payment qrpay had cancelled, and qrpay learns it only from the registry.
test.beforeAll(async () => {
  expect(bin, 'QRPAY_E2E_BIN (run.sh sets it)').toBeTruthy();
  emulator = spawn(bin!, ['bank-emulator', '--listen', bank, '--merchant-id', merchant, '--secret-key', secret, '--drop-callbacks', '1000'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`http://${bank}/api/emulator/faults`).then((r) => r.ok, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  spawnSync(bin!, ['payment-type', 'add', '--name', 'e2e-bank', '--module', 'raiffeisen'], { stdio: 'ignore' });
});

test.afterAll(() => {
  emulator?.kill();
});

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`«Спросить банк» with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('support asks the bank about a payment paid at the bank and it becomes paid late', async ({ page, request }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);
      const modules = new ModulesPage(page);
      await modules.goto();
      await modules.baseCustom.check();
      await modules.customUrl.fill(`http://${bank}/api`);
      await modules.merchant.fill(merchant);
      await modules.secret.fill(secret);
      await modules.submit();
      await expect(modules.notice).toHaveText('Сохранено.');

      // A payment the till cancelled; the customer pays it at the bank anyway.
      const auth = { Authorization: `Bearer ${tillKey}` };
      const created = await request.post('/api/v1/payments', {
        headers: { ...auth, 'Idempotency-Key': `e2e-ask-${mode}-${Date.now()}` },
        data: { amount: 4200, receipt: `ask-${mode}`, payment_type: 'e2e-bank' },
      });
      expect(created.status()).toBe(201);
      const payment = await created.json();
      const cancelled = await request.post(`/api/v1/payments/${payment.id}/cancel`, { headers: auth });
      expect((await cancelled.json()).status).toBe('cancelled');
      const qrId = new URL(payment.qr.payload).pathname.slice(1);
      const paid = await request.post(`http://${bank}/api/nspc-mock/v01/rfuture/payment/init`, { data: { qrId, amount: 42.0, force: true } });
      expect(paid.status()).toBe(200);

      await page.goto(`/console/transactions/${payment.id}`);
      const order = (await page.getByTestId('order-ref').textContent())!.trim();
      await expect(page.getByTestId('detail-status')).toHaveText('отменена');

      await page.getByTestId('nav-reconcile').click();
      await page.getByTestId('reconcile-form').locator('input[type=file]').setInputFiles({ name: `ask-${mode}.csv`, mimeType: 'text/csv', buffer: registry(merchant, order, '42.00', '0.10') });
      await page.getByTestId('reconcile-form').getByRole('button', { name: 'Сверить' }).click();
      await expect(page).toHaveURL(/\/console\/reconcile\?id=\d+$/);
      const mismatch = page.locator('[data-testid=mismatch][data-kind=paid_at_bank_not_in_qrpay]').filter({ hasText: order });
      await mismatch.getByTestId('ask-bank-link').click();

      // The confirmation step asks nothing of the bank yet.
      await expect(page.getByTestId('ask-bank')).toContainText(payment.id);
      await page.screenshot({ path: `/tmp/e2e-ask-bank-confirm-${mode}.png`, fullPage: true }).catch(() => {});
      await page.getByTestId('ask-bank-confirm').click();
      await expect(page.getByTestId('ask-bank-outcome')).toHaveText('Банк подтвердил оплату: платёж оплачен с опозданием и по правилу магазина возвращается покупателю.');
      await page.screenshot({ path: `/tmp/e2e-ask-bank-done-${mode}.png`, fullPage: true }).catch(() => {});

      await page.goto(`/console/transactions/${payment.id}`);
      // Paid late, and refunded in full by the store's late-payment rule.
      await expect(page.getByTestId('detail-status')).toHaveText('возвращена полностью');
    });
  });
}
