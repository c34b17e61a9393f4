import type { Locator, Page } from '@playwright/test';

/** `/console`: today's figures, the 14-day chart, pending and late payments. */
export class DashboardPage {
  readonly page: Page;
  readonly todayCount: Locator;
  readonly todayAmount: Locator;
  readonly chart: Locator;
  readonly chartDays: Locator;
  readonly pendingRows: Locator;

  constructor(page: Page) {
    this.page = page;
    this.todayCount = page.getByTestId('today-count');
    this.todayAmount = page.getByTestId('today-amount');
    this.chart = page.getByTestId('chart-svg');
    this.chartDays = page.getByTestId('chart-day');
    this.pendingRows = page.getByTestId('pending-row');
  }

  goto() {
    return this.page.goto('/console');
  }

  /** The dashboard counting test (sandbox) payments too (`?test=1`). */
  gotoWithTest() {
    return this.page.goto('/console?test=1');
  }

  pending(paymentId: string): Locator {
    return this.page.locator(`[data-testid="pending-row"][data-payment-id="${paymentId}"]`);
  }
}
