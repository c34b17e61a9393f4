import { test, expect, type APIRequestContext } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { TransactionsPage } from '../pages/TransactionsPage';
import { TransactionPage } from '../pages/TransactionPage';

const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

async function paidPayment(request: APIRequestContext, amount: number, receipt: string): Promise<string> {
  const auth = { Authorization: `Bearer ${tillKey}` };
  const created = await request.post('/api/v1/payments', {
    headers: { ...auth, 'Idempotency-Key': `e2e-tx-${Date.now()}-${Math.random()}` },
    data: { amount, receipt },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  const paid = await request.post(`/api/v1/sandbox/payments/${id}/pay`, { headers: auth });
  expect(paid.status()).toBe(200);
  return id;
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`transactions with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('a till payment appears, is found by the filter, opened and partly refunded', async ({ page, request }) => {
      expect(tillKey, 'QRPAY_E2E_TILL_KEY (run.sh sets it)').toBeTruthy();
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      const tag = javaScriptEnabled ? 'js' : 'nojs';
      const receipt = `e2e-tx-${tag}-${Date.now()}`;
      const id = await paidPayment(request, 5000, receipt);
      await paidPayment(request, 700, `${receipt}-other`);

      await page.goto('/console/login');
      await new LoginPage(page).signIn(login, password!);
      await expect(page).toHaveURL(/\/console$/);
      await page.getByTestId('nav-transactions').click();
      await expect(page).toHaveURL(/\/console\/transactions$/);
      const list = new TransactionsPage(page);
      await expect(list.row(id)).toBeVisible();

      await list.filter('paid', receipt);
      await expect(list.rows).toHaveCount(1);
      // A sandbox payment is a test one: listed, left out of the totals unless asked for.
      await expect(list.totalCount).toHaveText('0');
      await expect(list.totalsTest).toHaveText('Тестовые оплаты не учтены.');
      await list.countTestPayments();
      await expect(list.rows).toHaveCount(1);
      await expect(list.totalCount).toHaveText('1');
      await expect(list.totalsTest).toHaveText('Учтены и тестовые оплаты.');
      await expect(list.row(id).getByTestId('receipt')).toHaveText(receipt);
      await page.screenshot({ path: `/tmp/e2e-tx-list-${tag}.png`, fullPage: true }).catch(() => {});

      await list.open(id);
      await expect(page).toHaveURL(new RegExp(`/console/transactions/${id}$`));
      const detail = new TransactionPage(page);
      await expect(detail.paymentId).toHaveText(id);
      await expect(detail.status).toHaveText('оплачена');
      await expect(detail.left).toHaveText('50,00\u00a0₽');
      // Paid: the QR is over, so it is greyed and cannot be scanned.
      await expect(detail.qr).toHaveCount(0);
      await expect(detail.qrVoid).toContainText('не действует');
      await expect(detail.timelineTexts.first()).toHaveText('Создана кассой e2e-till');

      // A bad amount: the message beside the field, the typed value kept.
      await detail.askPartRefund('12,5x', 'e2e');
      await expect(detail.amountError).toHaveText('Сумма в рублях больше нуля, например 12,50.');
      await expect(detail.refundAmount).toHaveValue('12,5x');

      await detail.askPartRefund('12,50', 'e2e: part');
      await expect(detail.refundQuestion).toHaveText('Вернуть 12,50\u00a0₽?');
      await page.screenshot({ path: `/tmp/e2e-tx-confirm-${tag}.png`, fullPage: true }).catch(() => {});
      await detail.refundConfirm.click();
      await expect(detail.refundDone).toBeVisible();
      await expect(detail.refundRows).toHaveCount(1);
      await expect(detail.refunded).toHaveText('12,50\u00a0₽');
      await expect(detail.left).toHaveText('37,50\u00a0₽');
      await expect(detail.status).toHaveText('возвращена частично');
      await expect(detail.timelineTexts.filter({ hasText: 'Запрошен возврат 12,50\u00a0₽' })).toHaveCount(1);
      await page.screenshot({ path: `/tmp/e2e-tx-detail-${tag}.png`, fullPage: true }).catch(() => {});

      // Back in the list the refund shows beside the amount.
      await page.goto(`/console/transactions?q=${receipt}`);
      await expect(list.row(id).getByTestId('amount')).toContainText('12,50');

      // The journal names who refunded what, as a sentence.
      await page.goto('/console/audit');
      const entry = page
        .locator('[data-testid="audit-row"][data-kind="refund"]')
        .filter({ has: page.getByTestId('refund-payment').getByText(id, { exact: true }) });
      await expect(entry).toHaveCount(1);
      await expect(entry.getByTestId('who')).toHaveText(login);
      await expect(entry.getByTestId('action')).toHaveText('возврат');
      await expect(entry.getByTestId('refund-amount')).toHaveText('12,50\u00a0₽');
      await expect(entry.getByTestId('refund-reason')).toHaveText('e2e: part');
      await page.screenshot({ path: `/tmp/e2e-tx-audit-${tag}.png`, fullPage: true }).catch(() => {});
    });
  });
}
