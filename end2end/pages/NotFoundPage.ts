import type { Locator, Page } from '@playwright/test';

export class NotFoundPage {
  readonly page: Page;
  readonly root: Locator;

  constructor(page: Page) {
    this.page = page;
    this.root = page.getByTestId('not-found');
  }

  async goto(path: string) {
    return this.page.goto(path);
  }
}
