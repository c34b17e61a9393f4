import type { Locator, Page } from '@playwright/test';

/** Submits a form and waits for the redirect back (works with JavaScript on and off). */
async function submit(page: Page, button: Locator, url: RegExp) {
  await Promise.all([page.waitForURL(url), button.click()]);
}

export class AuthServersPage {
  readonly page: Page;
  readonly name: Locator;
  readonly timeout: Locator;
  readonly save: Locator;
  readonly notice: Locator;

  constructor(page: Page) {
    this.page = page;
    this.name = page.getByTestId('name-input');
    this.timeout = page.getByTestId('timeout-input');
    this.save = page.getByTestId('save');
    this.notice = page.getByTestId('notice');
  }

  goto() {
    return this.page.goto('/console/auth-servers');
  }

  error(field: string): Locator {
    return this.page.getByTestId(`error-${field}`);
  }

  row(name: string): Locator {
    return this.page.getByTestId('auth-server-row').filter({ has: this.page.getByTestId('name').getByText(name, { exact: true }) });
  }

  async submit() {
    await submit(this.page, this.save, /\/console\/auth-servers/);
  }
}

export class PaymentTypesPage {
  readonly page: Page;
  readonly name: Locator;
  readonly authServer: Locator;
  readonly module: Locator;
  readonly scan: Locator;
  readonly save: Locator;
  readonly notice: Locator;

  constructor(page: Page) {
    this.page = page;
    this.name = page.getByTestId('name-input');
    this.authServer = page.getByTestId('auth-server-input');
    this.module = page.getByTestId('module-input');
    this.scan = page.getByTestId('scan-input');
    this.save = page.getByTestId('save');
    this.notice = page.getByTestId('notice');
  }

  goto() {
    return this.page.goto('/console/payment-types');
  }

  error(field: string): Locator {
    return this.page.getByTestId(`error-${field}`);
  }

  row(name: string): Locator {
    return this.page.getByTestId('payment-type-row').filter({ has: this.page.getByTestId('name').getByText(name, { exact: true }) });
  }

  async submit() {
    await submit(this.page, this.save, /\/console\/payment-types/);
  }
}

export class TillsPage {
  readonly page: Page;
  readonly name: Locator;
  readonly kind: Locator;
  readonly add: Locator;
  readonly newKey: Locator;

  constructor(page: Page) {
    this.page = page;
    this.name = page.getByTestId('name-input');
    this.kind = page.getByTestId('kind-input');
    this.add = page.getByTestId('add-till');
    this.newKey = page.getByTestId('new-key-value');
  }

  goto() {
    return this.page.goto('/console/tills');
  }

  row(name: string): Locator {
    return this.page.getByTestId('till-row').filter({ has: this.page.getByTestId('name').getByText(name, { exact: true }) });
  }

  async submit() {
    await submit(this.page, this.add, /\/console\/tills/);
  }
}
