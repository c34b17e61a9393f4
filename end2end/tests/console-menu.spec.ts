import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;
const product = 'qrpay — интегратор QR-оплат СБП';

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`console menu with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU', viewport: { width: 1280, height: 800 } });

    test('configuration sits under one item, the menu is one line at 1280 px', async ({ page }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);

      await expect(page.getByTestId('brand')).toHaveText(product);
      await expect(page).toHaveTitle(`Сводка · ${product}`);
      await expect(page.getByTestId('nav-dashboard')).toHaveText('Сводка');
      await expect(page.getByTestId('nav-transactions')).toHaveText('Транзакции');
      await expect(page.getByTestId('nav-audit')).toHaveText('Журнал');
      await expect(page.getByTestId('nav-settings-toggle')).toHaveText('Параметры магазина и настройка операций');
      // Closed, the configuration links are out of the way.
      await expect(page.getByTestId('nav-tills')).toBeHidden();

      // One line: every item of the menu starts at the same height.
      const nav = page.locator('nav.main-nav');
      const tops = await nav
        .locator(':scope > a, :scope > details > summary')
        .evaluateAll((items) => items.map((i) => Math.round(i.getBoundingClientRect().top)));
      expect(tops.length).toBeGreaterThanOrEqual(5);
      expect(new Set(tops).size, `menu item tops ${tops}`).toBe(1);
      const header = await page.locator('header.topbar').boundingBox();
      expect(header!.height, 'the header keeps to two short rows').toBeLessThan(120);
      await page.screenshot({ path: `/tmp/e2e-menu-${mode}.png` });

      await page.getByTestId('nav-settings-toggle').click();
      const menu = page.getByTestId('nav-settings');
      await expect(menu).toContainText('Интеграция');
      for (const [id, label] of [
        ['nav-store', 'Параметры магазина'],
        ['nav-auth-servers', 'Серверы авторизации'],
        ['nav-payment-types', 'Виды оплаты'],
        ['nav-modules', 'Модули оплаты'],
        ['nav-tills', 'Кассы'],
        ['nav-users', 'Пользователи'],
      ]) {
        await expect(page.getByTestId(id)).toBeVisible();
        await expect(page.getByTestId(id)).toHaveText(label);
      }
      await page.screenshot({ path: `/tmp/e2e-menu-open-${mode}.png` });

      await Promise.all([page.waitForURL(/\/console\/tills$/), page.getByTestId('nav-tills').click()]);
      await expect(page).toHaveTitle(`Кассы · ${product}`);
      // The item holding the page stands out, so one knows where one is.
      await expect(page.getByTestId('nav-settings-toggle')).toHaveClass(/active/);
    });
  });
}
