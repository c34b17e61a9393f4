import type { Locator, Page } from '@playwright/test';

/** The customer's QR page `/pay/{id}` (kiosk screen, customer display). */
export class PayPage {
  readonly page: Page;
  readonly root: Locator;
  readonly qr: Locator;
  readonly amount: Locator;
  readonly hint: Locator;
  readonly countdown: Locator;
  readonly headline: Locator;
  readonly notFound: Locator;

  constructor(page: Page) {
    this.page = page;
    this.root = page.getByTestId('pay-page');
    this.qr = page.getByTestId('qr');
    this.amount = page.getByTestId('amount');
    this.hint = page.getByTestId('hint');
    this.countdown = page.getByTestId('countdown');
    this.headline = page.getByTestId('headline');
    this.notFound = page.getByTestId('pay-not-found');
  }

  async goto(id: string) {
    return this.page.goto(`/pay/${id}`);
  }
}
