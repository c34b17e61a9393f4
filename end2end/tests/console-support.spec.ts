import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { TransactionPage } from '../pages/TransactionPage';

// Issue 14 part 1: support cancels a pending payment, asks the bank, and publishes a payment's
// events again — each through the confirmation step the server keeps — with JavaScript on and off.

const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;
// The broker the events go to (the machine's RabbitMQ, as the integration tests use).
const amqp = process.env.QRPAY_E2E_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2f';
const auth = { Authorization: `Bearer ${tillKey}` };

async function payment(request: APIRequestContext, amount: number, pay: boolean): Promise<string> {
  const created = await request.post('/api/v1/payments', {
    headers: { ...auth, 'Idempotency-Key': `e2e-sup-${Date.now()}-${Math.random()}` },
    data: { amount, receipt: `e2e-sup-${Date.now()}` },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  if (pay) {
    expect((await request.post(`/api/v1/sandbox/payments/${id}/pay`, { headers: auth })).status()).toBe(200);
  }
  return id;
}

async function signIn(page: Page) {
  await page.goto('/console/login');
  await new LoginPage(page).signIn(login, password!);
  await expect(page).toHaveURL(/\/console$/);
}

async function setBroker(page: Page, url: string) {
  await page.goto('/console/store');
  await page.getByTestId('rabbitmq-input').fill(url);
  await page.getByTestId('save').click();
  await expect(page.getByTestId('notice')).toBeVisible();
}

for (const javaScriptEnabled of [true, false]) {
  const tag = javaScriptEnabled ? 'js' : 'nojs';
  test.describe(`support actions with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('cancel a pending payment: the question, then the QR is void and the till hears cancelled', async ({ page, request }) => {
      const id = await payment(request, 2345, false);
      await signIn(page);
      await page.goto(`/console/transactions/${id}`);
      const detail = new TransactionPage(page);
      await expect(detail.status).toHaveText('ожидает оплаты');
      await expect(detail.qr.locator('svg')).toBeVisible();

      // «Отмена» leaves everything as it was.
      await detail.cancelSubmit.click();
      await expect(detail.question('cancel')).toContainText('Отменить оплату 23,45\u00a0₽?');
      await detail.confirmCancel.click();
      await expect(detail.question('cancel')).toHaveCount(0);
      await expect(detail.status).toHaveText('ожидает оплаты');

      await detail.cancelSubmit.click();
      await page.screenshot({ path: `/tmp/e2e-support-cancel-question-${tag}.png`, fullPage: true }).catch(() => {});
      await detail.confirm('cancel').click();
      await expect(detail.done('cancel')).toContainText('Оплата отменена, QR-код аннулирован в банке.');
      await expect(detail.status).toHaveText('отменена');
      await expect(detail.qr).toHaveCount(0);
      await expect(detail.qrVoid).toContainText('не действует');
      await expect(detail.timelineTexts.last()).toContainText('Отменена в консоли, QR аннулирован');
      await page.screenshot({ path: `/tmp/e2e-support-cancelled-${tag}.png`, fullPage: true }).catch(() => {});

      const till = await (await request.get(`/api/v1/payments/${id}`, { headers: auth })).json();
      expect(till.status).toBe('cancelled');

      await page.goto('/console/audit');
      const row = page.locator('[data-testid="audit-row"][data-action="cancel"]').filter({ has: page.getByTestId('entity-payment').getByText(id, { exact: true }) });
      await expect(row).toHaveCount(1);
      await expect(row.getByTestId('action')).toHaveText('отмена оплаты');
      await expect(row.getByTestId('changes')).toContainText('Статус: ожидает оплаты → отменена');
      await page.screenshot({ path: `/tmp/e2e-support-audit-${tag}.png`, fullPage: true }).catch(() => {});
    });

    test('ask the bank about a pending payment: the page shows what the bank said', async ({ page, request }) => {
      const id = await payment(request, 1500, false);
      await signIn(page);
      await page.goto(`/console/transactions/${id}`);
      const detail = new TransactionPage(page);
      await detail.askSubmit.click();
      await expect(detail.question('ask')).toHaveText('Спросить банк о состоянии оплаты сейчас?');
      await detail.confirm('ask').click();
      await expect(detail.done('ask')).toContainText('Банк: QR-код ждёт оплаты.');
      await expect(detail.status).toHaveText('ожидает оплаты');
      await page.screenshot({ path: `/tmp/e2e-support-asked-${tag}.png`, fullPage: true }).catch(() => {});
      // The same confirmation a second time does nothing and says so.
      await page.goBack();
      if (await detail.confirm('ask').count()) {
        await detail.confirm('ask').click();
        await expect(detail.actionError).toHaveText('Это подтверждение уже использовано или устарело: ничего не сделано.');
      }
    });

    test('publish a paid payment\'s events again', async ({ page, request }) => {
      await signIn(page);
      await setBroker(page, amqp);
      try {
        const id = await payment(request, 1200, true);
        const detail = new TransactionPage(page);
        // The relay publishes the events first; until then there is nothing to publish again.
        await expect(async () => {
          await page.goto(`/console/transactions/${id}`);
          await detail.republishSubmit.click();
          await expect(detail.question('republish')).toBeVisible({ timeout: 1000 });
        }).toPass({ timeout: 20_000 });
        await expect(detail.question('republish')).toHaveText('Отправить в RabbitMQ заново события этой транзакции, штук: 2?');
        await detail.confirm('republish').click();
        await expect(detail.done('republish')).toContainText('События отправлены заново, штук:');
        await expect(detail.outcomeDetail).toHaveText('2');
        await page.screenshot({ path: `/tmp/e2e-support-republished-${tag}.png`, fullPage: true }).catch(() => {});
      } finally {
        await setBroker(page, '');
      }
    });
  });
}
