import type { Locator, Page } from '@playwright/test';

export class TransactionsPage {
  readonly page: Page;
  readonly table: Locator;
  readonly rows: Locator;
  readonly currentUser: Locator;
  readonly currentRole: Locator;
  readonly logout: Locator;
  readonly langEn: Locator;
  readonly langRu: Locator;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('transactions');
    this.rows = page.getByTestId('transaction-row');
    this.currentUser = page.getByTestId('current-user');
    this.currentRole = page.getByTestId('current-role');
    this.logout = page.getByTestId('logout');
    this.langEn = page.getByTestId('lang-en');
    this.langRu = page.getByTestId('lang-ru');
  }

  async goto() {
    return this.page.goto('/console/transactions');
  }

  row(paymentId: string): Locator {
    return this.page.locator(`[data-testid="transaction-row"][data-payment-id="${paymentId}"]`);
  }

  async signOut() {
    await Promise.all([this.page.waitForURL(/\/console\/login/), this.logout.click()]);
  }
}
