import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { ModulesPage } from '../pages/ModulesPage';
import { ConsoleMenu } from '../pages/ConsoleMenu';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`payment modules with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('an admin sets the Raiffeisen settings; the key shows only as set', async ({ page }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      const secret = `eyJ.e2e-secret-${mode}-${Date.now()}`;
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);

      const modules = new ModulesPage(page);
      await new ConsoleMenu(page).openSettings('nav-modules');
      await expect(page).toHaveURL(/\/console\/modules$/);
      await expect(modules.heading).toHaveText('Модули оплаты');
      await expect(modules.sandboxNote).toContainText('настраивать нечего');

      // A bad custom address and merchant id: messages beside the fields, the typed values kept,
      // the key typed with them not sent back.
      await modules.baseCustom.check();
      await modules.customUrl.fill('ftp://bank.example');
      await modules.merchant.fill('MA-0001!');
      await modules.secret.fill(secret);
      await modules.submit();
      await expect(modules.error('custom_url')).toHaveText('Адрес начинается с http:// или https://.');
      await expect(modules.error('sbp_merchant_id')).toContainText('до 12 латинских букв и цифр');
      await expect(modules.customUrl).toHaveValue('ftp://bank.example');
      await expect(modules.merchant).toHaveValue('MA-0001!');
      await expect(modules.baseCustom).toBeChecked();
      await expect(modules.secret).toHaveValue('');
      expect(page.url()).not.toContain('e2e-secret');

      await modules.baseTest.check();
      await modules.customUrl.fill('');
      await modules.merchant.fill('MA0000000552');
      await modules.secret.fill(secret);
      await modules.submit();
      await expect(modules.notice).toHaveText('Сохранено.');
      await expect(modules.secretState).toHaveText('задан');
      await expect(modules.secret).toHaveValue('');
      await expect(modules.baseTest).toBeChecked();
      await expect(modules.merchant).toHaveValue('MA0000000552');
      expect(await page.content()).not.toContain(secret);
      await page.screenshot({ path: `/tmp/e2e-modules-${mode}.png`, fullPage: true }).catch(() => {});

      await page.reload();
      await expect(modules.secretState).toHaveText('задан');
      await expect(modules.secret).toHaveValue('');
      expect(await page.content()).not.toContain(secret);

      // Without an integrator address the bank is not called, and the page says why.
      await modules.registerCallback();
      await expect(modules.registerError).toHaveText('Не задан адрес интегратора: укажите его в параметрах магазина.');

      // The journal has the change, with the key only as «изменён».
      await page.getByTestId('nav-audit').click();
      const row = page.getByTestId('audit-row').filter({ has: page.getByTestId('entity').getByText(/Настройки Райффайзенбанка/) }).first();
      await expect(row.locator('[data-testid="change"][data-field="secret_key"]')).toContainText('Секретный ключ:');
      await expect(row.locator('[data-testid="change"][data-field="secret_key"] [data-testid="now"]')).toHaveText('изменён');
      expect(await page.content()).not.toContain(secret);
    });
  });
}
