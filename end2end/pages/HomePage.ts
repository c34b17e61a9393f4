import type { Locator, Page } from '@playwright/test';

export class HomePage {
  readonly page: Page;
  readonly main: Locator;
  readonly heading: Locator;
  readonly openapiLink: Locator;

  constructor(page: Page) {
    this.page = page;
    this.main = page.getByTestId('home');
    this.heading = this.main.getByRole('heading', { name: 'qrpay' });
    this.openapiLink = page.getByTestId('openapi-link');
  }

  async goto() {
    return this.page.goto('/');
  }
}
