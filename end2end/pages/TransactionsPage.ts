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
  readonly filterStatus: Locator;
  readonly filterQ: Locator;
  readonly filterMin: Locator;
  readonly filterApply: Locator;
  readonly totalCount: Locator;
  readonly totalsTest: Locator;
  readonly filterTest: Locator;
  readonly exportCsv: Locator;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('transactions');
    this.rows = page.getByTestId('transaction-row');
    this.currentUser = page.getByTestId('current-user');
    this.currentRole = page.getByTestId('current-role');
    this.logout = page.getByTestId('logout');
    this.langEn = page.getByTestId('lang-en');
    this.langRu = page.getByTestId('lang-ru');
    this.filterStatus = page.getByTestId('filter-status');
    this.filterQ = page.getByTestId('filter-q');
    this.filterMin = page.getByTestId('filter-min');
    this.filterApply = page.getByTestId('filter-apply');
    this.totalCount = page.getByTestId('total-count');
    this.totalsTest = page.getByTestId('totals-test');
    this.filterTest = page.getByTestId('filter-test');
    this.exportCsv = page.getByTestId('export-csv');
  }

  async goto() {
    return this.page.goto('/console/transactions');
  }

  row(paymentId: string): Locator {
    return this.page.locator(`[data-testid="transaction-row"][data-payment-id="${paymentId}"]`);
  }

  /** Filters by status and text search (a GET form: works without JavaScript). */
  async filter(status: string, q: string) {
    await this.filterStatus.selectOption(status);
    await this.filterQ.fill(q);
    await Promise.all([this.page.waitForURL(/\/console\/transactions\?/), this.filterApply.click()]);
  }

  /** Counts test payments in the totals too (the same GET form). */
  async countTestPayments() {
    await this.filterTest.check();
    await Promise.all([this.page.waitForURL(/[?&]test=1/), this.filterApply.click()]);
  }

  async open(paymentId: string) {
    await this.row(paymentId).getByTestId('open').click();
  }

  async signOut() {
    await Promise.all([this.page.waitForURL(/\/console\/login/), this.logout.click()]);
  }
}
