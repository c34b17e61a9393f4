import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { UsersPage } from '../pages/UsersPage';
import { DashboardPage } from '../pages/DashboardPage';
import { ConsoleMenu } from '../pages/ConsoleMenu';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`console users with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('an admin adds a viewer, who sees the dashboard but not the users, and is then disabled', async ({ page, browser }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      const viewer = `viewer-${mode}-${Date.now()}`;
      const viewerPassword = `pw-${Math.random().toString(36).slice(2)}-long`;

      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);
      await expect(page).toHaveURL(/\/console$/);
      await new ConsoleMenu(page).openSettings('nav-users');
      await expect(page).toHaveURL(/\/console\/users$/);
      const users = new UsersPage(page);
      await expect(users.row(login).getByTestId('me')).toBeVisible();

      // Passwords that differ are named beside the field; the login stays typed.
      await users.addUser(viewer, 'viewer', viewerPassword, `${viewerPassword}!`);
      await expect(users.error('password_again')).toHaveText('Пароли не совпадают.');
      await expect(users.login).toHaveValue(viewer);
      await users.addUser(viewer, 'viewer', viewerPassword);
      await expect(users.notice).toHaveText('Пользователь добавлен.');
      await expect(users.row(viewer).getByTestId('state')).toHaveText('активен');
      await expect(users.row(viewer).getByTestId('row-role-input')).toHaveValue('viewer');
      // The same login again is refused beside the field.
      await users.addUser(viewer, 'support', viewerPassword);
      await expect(users.error('login')).toHaveText('Такой логин уже есть.');
      await expect(users.login).toHaveValue(viewer);
      // An admin cannot disable themselves.
      await users.row(login).getByTestId('disable').click();
      await expect(users.actionError).toContainText('Нельзя отключить себя');
      await page.screenshot({ path: `/tmp/e2e-users-${mode}.png`, fullPage: true }).catch(() => {});

      // The viewer signs in (own browser) and lands on the dashboard, without the users link.
      const other = await browser.newContext({ javaScriptEnabled, locale: 'ru-RU' });
      const viewerPage = await other.newPage();
      await new LoginPage(viewerPage).goto();
      await new LoginPage(viewerPage).signIn(viewer, viewerPassword);
      await expect(viewerPage).toHaveURL(/\/console$/);
      const dashboard = new DashboardPage(viewerPage);
      await expect(dashboard.todayCount).toBeVisible();
      await expect(dashboard.chartDays).toHaveCount(14);
      await expect(viewerPage.getByTestId('current-role')).toHaveText('наблюдатель');
      await expect(viewerPage.getByTestId('nav-dashboard')).toBeVisible();
      await expect(viewerPage.getByTestId('nav-users')).toHaveCount(0);
      await viewerPage.goto('/console/users');
      await expect(new UsersPage(viewerPage).pageError).toHaveText('Недостаточно прав для этого действия.');
      await expect(viewerPage.getByTestId('user-row')).toHaveCount(0);

      // The admin disables the viewer: the viewer's open session ends at the next page.
      await users.goto();
      await users.disable(viewer);
      await expect(users.row(viewer).getByTestId('state')).toHaveText('отключён');
      await viewerPage.goto('/console');
      await expect(viewerPage).toHaveURL(/\/console\/login$/);
      await new LoginPage(viewerPage).signIn(viewer, viewerPassword);
      await expect(new LoginPage(viewerPage).error).toHaveText('Неверный логин или пароль.');
      await other.close();
    });
  });
}
