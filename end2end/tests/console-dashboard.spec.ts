import { test, expect, type APIRequestContext } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { DashboardPage } from '../pages/DashboardPage';

const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

async function createPayment(request: APIRequestContext, amount: number, receipt: string): Promise<string> {
  const created = await request.post('/api/v1/payments', {
    headers: { Authorization: `Bearer ${tillKey}`, 'Idempotency-Key': `e2e-dash-${Date.now()}-${Math.random()}` },
    data: { amount, receipt },
  });
  expect(created.status()).toBe(201);
  return (await created.json()).id;
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`console dashboard with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('today counts a new paid payment, the chart has 14 days, a pending payment links to its page', async ({ page, request }) => {
      expect(tillKey, 'QRPAY_E2E_TILL_KEY (run.sh sets it)').toBeTruthy();
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      await new LoginPage(page).goto();
      await new LoginPage(page).signIn(login, password!);
      await expect(page).toHaveURL(/\/console$/);
      const dashboard = new DashboardPage(page);
      // Sandbox payments are test payments: the default view counts real money only.
      const real = Number(await dashboard.todayCount.textContent());
      await dashboard.gotoWithTest();
      const before = Number(await dashboard.todayCount.textContent());

      const paid = await createPayment(request, 2500, `e2e-dash-${mode}-paid`);
      const pay = await request.post(`/api/v1/sandbox/payments/${paid}/pay`, { headers: { Authorization: `Bearer ${tillKey}` } });
      expect(pay.status()).toBe(200);
      const pending = await createPayment(request, 1200, `e2e-dash-${mode}-pending`);

      await dashboard.goto();
      await expect(dashboard.todayCount).toHaveText(String(real));
      await expect(page.getByTestId('test-banner')).toBeVisible();
      await dashboard.gotoWithTest();
      await expect(dashboard.todayCount).toHaveText(String(before + 1));
      await expect(dashboard.chart).toBeVisible();
      await expect(dashboard.chartDays).toHaveCount(14);
      await expect(page.locator('[data-testid="chart-svg"] rect')).toHaveCount(14);
      await expect(dashboard.chartDays.last().getByTestId('day-count')).toHaveText(String(before + 1));
      await expect(dashboard.pending(pending).getByTestId('amount')).toHaveText('12,00\u00a0₽');
      await page.screenshot({ path: `/tmp/e2e-dashboard-${mode}.png`, fullPage: true }).catch(() => {});
      await dashboard.pending(pending).getByTestId('open').click();
      await expect(page).toHaveURL(new RegExp(`/console/transactions/${pending}$`));
    });
  });
}
