import { test, expect } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';

const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`cash-register link with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('an admin issues a till its cash link, sees the plate, and the till takes a payment on it', async ({ page, request }) => {
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);

      // A till of its own, so that other specs' payments never meet its link.
      const name = `Касса ссылка ${mode} ${Date.now() % 100000}`;
      await page.goto('/console/tills');
      await page.getByTestId('till-form').getByTestId('name-input').fill(name);
      await page.getByTestId('till-form').getByTestId('add-till').click();
      const key = (await page.getByTestId('new-key-value').textContent())!.trim();
      expect(key.length).toBeGreaterThan(20);

      const row = page.getByTestId('till-row').filter({ hasText: name });
      await row.getByTestId('cash-link').click();
      await expect(page.getByRole('heading', { level: 1 })).toContainText('Кассовая ссылка');
      await expect(page.getByTestId('no-cash-link')).toBeVisible();
      await page.getByTestId('cash-link-issue').click();
      await expect(page.getByTestId('notice')).toHaveText('Кассовая ссылка выпущена.');

      // The A6 plate: the store, «Оплата по СБП», the QR, the till.
      const plate = page.getByTestId('plate');
      await expect(plate).toBeVisible();
      await expect(plate).toContainText('Оплата по СБП');
      await expect(page.getByTestId('plate-name')).toHaveText(name);
      await expect(page.locator('[data-testid=plate] svg')).toBeVisible();
      const payload = (await page.getByTestId('cash-link-payload').textContent())!.trim();
      expect(payload).toMatch(/^https:\/\/qr\.nspk\.ru\/AV/);
      await page.screenshot({ path: `/tmp/e2e-cash-link-${mode}.png`, fullPage: true }).catch(() => {});

      // The printable page of the plate (public, A6).
      await page.getByTestId('cash-link-page').click();
      await expect(page.getByTestId('cash-link-plate')).toBeVisible();
      await expect(page.getByTestId('cash-link-plate')).toContainText(name);
      await page.screenshot({ path: `/tmp/e2e-cash-link-plate-${mode}.png`, fullPage: true }).catch(() => {});

      // The till creates a payment as always: its QR is the link, and a second one waits.
      const create = (receipt: string) =>
        request.post('/api/v1/payments', {
          headers: { Authorization: `Bearer ${key}`, 'Idempotency-Key': `${receipt}-${Date.now()}` },
          data: { amount: 15050, receipt },
        });
      const first = await create('CL-1');
      expect(first.status()).toBe(201);
      const payment = await first.json();
      expect(payment.qr.payload).toBe(payload);
      expect(payment.outputs.plate.png_url).toMatch(/\/plate\.png$/);
      const busy = await create('CL-2');
      expect(busy.status()).toBe(409);
      expect((await busy.json()).error).toMatchObject({ code: 'till_busy', payment_id: payment.id });
      const cancelled = await request.post(`/api/v1/payments/${payment.id}/cancel`, {
        headers: { Authorization: `Bearer ${key}` },
      });
      expect((await cancelled.json()).status).toBe('cancelled');
    });
  });
}
