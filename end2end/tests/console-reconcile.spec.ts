import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { ModulesPage } from '../pages/ModulesPage';
import { registry as bankRegistry } from '../pages/registry';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

/** Today's registry with one payment qrpay never made. */
const registry = () => bankRegistry('MA0000000552', 'q-e2e-unknown', '3923.00', '15.69');

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`reconciliation with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('an admin uploads the bank registry and sees what differs', async ({ page }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);

      // The store's merchant, so that the registry is this store's.
      const modules = new ModulesPage(page);
      await modules.goto();
      await modules.baseTest.check();
      await modules.merchant.fill('MA0000000552');
      await modules.secret.fill(`eyJ.e2e-reconcile-${mode}`);
      await modules.submit();
      await expect(modules.notice).toHaveText('Сохранено.');

      await page.getByTestId('nav-reconcile').click();
      await expect(page).toHaveURL(/\/console\/reconcile$/);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Сверка');

      // Not a registry: a message beside the form.
      const form = page.getByTestId('reconcile-form');
      await form.locator('input[type=file]').setInputFiles({ name: 'photo.csv', mimeType: 'text/csv', buffer: Buffer.from('hello;world\n') });
      await form.getByRole('button', { name: 'Сверить' }).click();
      await expect(page.getByTestId('reconcile-error')).toContainText('Это не реестр банка');

      await page.getByTestId('reconcile-form').locator('input[type=file]').setInputFiles({ name: `registry-${mode}.csv`, mimeType: 'text/csv', buffer: registry() });
      await page.getByTestId('reconcile-form').getByRole('button', { name: 'Сверить' }).click();
      await expect(page).toHaveURL(/\/console\/reconcile\?id=\d+$/);
      const mismatch = page.locator('[data-testid=mismatch][data-kind=paid_at_bank_not_in_qrpay]');
      await expect(mismatch).toContainText('Оплачен в банке, в qrpay не оплачен');
      await expect(mismatch).toContainText('q-e2e-unknown');
      await expect(page.getByTestId('reconcile-totals')).toContainText('3\u00a0923,00\u00a0₽');
      await expect(page.getByTestId('reconciliation-row').first()).toContainText(`registry-${mode}.csv`);
      await page.screenshot({ path: `/tmp/e2e-reconcile-${mode}.png`, fullPage: true }).catch(() => {});
    });
  });
}
