import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;
const tillKey = process.env.QRPAY_E2E_TILL_KEY;

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`static QRs with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('an admin issues a static QR, prints its plate, sees its payment and deactivates it', async ({ page, request }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      expect(tillKey, 'QRPAY_E2E_TILL_KEY (run.sh sets it)').toBeTruthy();
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);

      await page.goto('/console/static-qrs');
      await expect(page).toHaveURL(/\/console\/static-qrs$/);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Статические QR');

      // No name: the form says so and keeps what was typed.
      const name = `Ящик ${mode} ${Date.now() % 100000}`;
      const form = page.getByTestId('issue-form');
      await form.getByTestId('name-input').fill(name);
      await form.getByTestId('purpose-input').fill('Пожертвование приюту');
      await form.getByTestId('amount-input').fill('12,5x');
      await form.getByTestId('issue-submit').click();
      await expect(page.getByTestId('issue-form').getByTestId('amount-input')).toHaveValue('12,5x');

      await page.getByTestId('issue-form').getByTestId('amount-input').fill('150,50');
      await page.getByTestId('issue-form').getByTestId('issue-submit').click();
      await expect(page.getByTestId('notice')).toHaveText('Статический QR выпущен.');
      const row = page.getByTestId('static-qr-row').filter({ hasText: name });
      await expect(row).toContainText('150,50');
      await expect(row).toContainText('Тест');

      // The printable plate.
      await row.getByTestId('plate-link').click();
      await expect(page.getByTestId('plate')).toBeVisible();
      await expect(page.getByTestId('plate-name')).toHaveText(name);
      await expect(page.getByTestId('plate')).toContainText('Оплата по СБП');
      await expect(page.locator('[data-testid=plate] svg')).toBeVisible();
      await page.screenshot({ path: `/tmp/e2e-static-plate-${mode}.png`, fullPage: true }).catch(() => {});

      // A customer pays it (the sandbox plays the customer): a paid payment in «Транзакции».
      await page.goto('/console/static-qrs');
      const id = await page.getByTestId('static-qr-row').filter({ hasText: name }).getAttribute('data-id');
      const paid = await request.post(`/api/v1/sandbox/static-qrs/${id}/pay`, {
        headers: { Authorization: `Bearer ${tillKey}` },
      });
      expect(paid.status()).toBe(200);
      expect((await paid.json()).amount).toBe(15050);
      await page.getByTestId('nav-transactions').click();
      await expect(page.locator('body')).toContainText(`QR «${name}»`);

      // Deactivate, after the confirmation step.
      await page.goto('/console/static-qrs');
      await page.getByTestId('static-qr-row').filter({ hasText: name }).getByTestId('deactivate-link').click();
      await expect(page.getByTestId('deactivate-confirm')).toContainText(name);
      await page.getByTestId('deactivate-yes').click();
      await expect(page.getByTestId('notice')).toContainText('Статический QR отключён');
      await expect(page.getByTestId('static-qr-row').filter({ hasText: name }).getByTestId('inactive')).toBeVisible();
      await page.screenshot({ path: `/tmp/e2e-static-list-${mode}.png`, fullPage: true }).catch(() => {});
    });
  });
}
