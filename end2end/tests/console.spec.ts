import { test, expect, type APIRequestContext } from '@playwright/test';
import { LoginPage } from '../pages/LoginPage';
import { TransactionsPage } from '../pages/TransactionsPage';

const tillKey = process.env.QRPAY_E2E_TILL_KEY;
const login = process.env.QRPAY_E2E_LOGIN ?? 'e2e-admin';
const password = process.env.QRPAY_E2E_PASSWORD;

async function paidPayment(request: APIRequestContext, amount: number, receipt: string): Promise<string> {
  const auth = { Authorization: `Bearer ${tillKey}` };
  const created = await request.post('/api/v1/payments', {
    headers: { ...auth, 'Idempotency-Key': `e2e-console-${Date.now()}-${Math.random()}` },
    data: { amount, receipt },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  const paid = await request.post(`/api/v1/sandbox/payments/${id}/pay`, { headers: auth });
  expect(paid.status()).toBe(200);
  return id;
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`console with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    // Chromium asks for English by default; the console follows Accept-Language.
    test.use({ javaScriptEnabled, locale: 'ru-RU' });

    test('sign in, see the transactions, switch language, sign out', async ({ page, request }) => {
      expect(tillKey, 'QRPAY_E2E_TILL_KEY (run.sh sets it)').toBeTruthy();
      expect(password, 'QRPAY_E2E_PASSWORD (run.sh sets it)').toBeTruthy();
      const receipt = `e2e-${javaScriptEnabled ? 'js' : 'nojs'}-${Date.now()}`;
      const id = await paidPayment(request, 123456, receipt);

      // Without a session the console sends us to the login page.
      await page.goto('/console/transactions');
      await expect(page).toHaveURL(/\/console\/login$/);
      const loginPage = new LoginPage(page);
      await expect(loginPage.root).toBeVisible();

      // A wrong password: the message, and the login kept in the form.
      await loginPage.signIn(login, 'not the password');
      await expect(loginPage.error).toHaveText('Неверный логин или пароль.');
      await expect(loginPage.login).toHaveValue(login);

      await loginPage.signIn(login, password!);
      // The dashboard is the console's first page; the transactions are one link away.
      await expect(page).toHaveURL(/\/console$/);
      await page.getByTestId('nav-transactions').click();
      await expect(page).toHaveURL(/\/console\/transactions$/);
      const tx = new TransactionsPage(page);
      await expect(tx.currentUser).toContainText(login);
      await expect(tx.currentRole).toHaveText('администратор');
      const row = tx.row(id);
      await expect(row).toBeVisible();
      await expect(row.getByTestId('amount')).toHaveText('1\u00a0234,56\u00a0₽');
      await expect(row.getByTestId('status')).toHaveText('оплачена');
      await expect(row.getByTestId('receipt')).toHaveText(receipt);
      await expect(row.getByTestId('till')).toHaveText('e2e-till');
      await page.screenshot({ path: `/tmp/e2e-console-transactions-${javaScriptEnabled ? 'js' : 'nojs'}.png`, fullPage: true }).catch(() => {});

      await tx.langEn.click();
      await expect(page).toHaveURL(/\/console\/transactions$/);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Transactions');
      await expect(tx.currentRole).toHaveText('administrator');
      await expect(tx.row(id).getByTestId('amount')).toHaveText('₽1,234.56');
      await tx.langRu.click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Транзакции');

      await tx.signOut();
      await expect(loginPage.notice).toHaveText('Вы вышли.');
      await page.goto('/console/transactions');
      await expect(page).toHaveURL(/\/console\/login$/);
    });
  });
}
