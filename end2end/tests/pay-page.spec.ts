import { test, expect, type APIRequestContext } from '@playwright/test';
import { PayPage } from '../pages/PayPage';

const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const auth = { Authorization: `Bearer ${tillKey}` };

async function createPayment(request: APIRequestContext, amount: number) {
  const res = await request.post('/api/v1/payments', {
    headers: { ...auth, 'Idempotency-Key': `e2e-pay-${Date.now()}-${Math.random()}` },
    data: { amount, receipt: 'r-page' },
  });
  expect(res.status()).toBe(201);
  return res.json();
}

test.describe('customer QR page', () => {
  test.beforeAll(() => {
    expect(tillKey, 'QRPAY_E2E_TILL_KEY must hold a till key (run.sh sets it)').toBeTruthy();
  });

  for (const [width, height] of [[1920, 1080], [480, 1080], [800, 480]]) {
    test(`shows the QR, amount and countdown, then turns paid by itself at ${width}×${height}`, async ({ page, request }) => {
      await page.setViewportSize({ width, height });
      const payment = await createPayment(request, 123456);
      expect(payment.outputs.screen_url).toContain(`/pay/${payment.id}`);

      const pay = new PayPage(page);
      await pay.goto(payment.id);
      await expect(pay.root).toHaveAttribute('data-status', 'pending');
      await expect(pay.amount).toHaveText('1\u00a0234,56\u00a0₽');
      await expect(pay.hint).toHaveText('Отсканируйте QR-код камерой телефона или в приложении банка');
      // The seed's СБП wording, and one English line for tourists.
      const sbp = page.getByTestId('sbp');
      const english = page.getByTestId('hint-en');
      await expect(sbp).toHaveText('Оплата по QR-коду СБП — Системы быстрых платежей');
      await expect(english).toHaveAttribute('lang', 'en');
      await expect(english).toContainText('Scan the QR code');
      await page.screenshot({ path: `/tmp/e2e-pay-${width}x${height}.png` });
      await expect(pay.qr.locator('svg')).toBeVisible();
      // The QR and the text all fit on the screen, and the QR is large.
      const box = await pay.qr.boundingBox();
      expect(box).not.toBeNull();
      expect(box!.width).toBeGreaterThan(Math.min(width, height) * 0.7);
      for (const l of [pay.qr, pay.amount, pay.hint, sbp, english, pay.countdown]) {
        const b = await l.boundingBox();
        expect(b!.x).toBeGreaterThanOrEqual(0);
        expect(b!.y).toBeGreaterThanOrEqual(0);
        expect(b!.x + b!.width).toBeLessThanOrEqual(width + 1);
        expect(b!.y + b!.height).toBeLessThanOrEqual(height + 1);
      }
      // The countdown runs.
      const first = await pay.countdown.textContent();
      await expect(pay.countdown).not.toHaveText(first!, { timeout: 3000 });

      // The customer pays; the page's long-poll notices and the page turns «Оплачено».
      const paid = await request.post(`/api/v1/sandbox/payments/${payment.id}/pay`, { headers: auth });
      expect(paid.status()).toBe(200);
      await expect(pay.headline).toHaveText('Оплачено', { timeout: 10_000 });
      await expect(page.getByTestId('headline-en')).toHaveText('Paid');
      await expect(pay.root).toHaveAttribute('data-status', 'paid');
      await expect(pay.qr).toHaveCount(0);
    });
  }

  test('turns «Отменено» when the till cancels', async ({ page, request }) => {
    const payment = await createPayment(request, 500);
    const pay = new PayPage(page);
    await pay.goto(payment.id);
    await expect(pay.qr).toBeVisible();
    const res = await request.post(`/api/v1/payments/${payment.id}/cancel`, { headers: auth });
    expect(res.status()).toBe(200);
    await expect(pay.headline).toHaveText('Отменено', { timeout: 10_000 });
  });

  test('works without JavaScript: the page refreshes itself', async ({ browser, request }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const payment = await createPayment(request, 700);
    const pay = new PayPage(page);
    await pay.goto(payment.id);
    await expect(pay.qr).toBeVisible();
    await request.post(`/api/v1/sandbox/payments/${payment.id}/pay`, { headers: auth });
    await expect(pay.headline).toHaveText('Оплачено', { timeout: 15_000 });
    await context.close();
  });

  test('an unknown id shows a not-found page', async ({ page }) => {
    const pay = new PayPage(page);
    const res = await pay.goto('01aaaaaaaaaaaaaaaaaaaaaaaa');
    expect(res!.status()).toBe(404);
    await expect(pay.notFound).toContainText('Платёж не найден');
  });
});
