import type { Locator, Page } from '@playwright/test';

/** `/console/modules`: the store's payment module settings (Raiffeisen form, sandbox note). */
export class ModulesPage {
  readonly page: Page;
  readonly heading: Locator;
  readonly baseTest: Locator;
  readonly baseCustom: Locator;
  readonly customUrl: Locator;
  readonly merchant: Locator;
  readonly secret: Locator;
  readonly secretState: Locator;
  readonly save: Locator;
  readonly notice: Locator;
  readonly register: Locator;
  readonly registerError: Locator;
  readonly sandboxNote: Locator;

  constructor(page: Page) {
    this.page = page;
    this.heading = page.getByRole('heading', { level: 1 });
    this.baseTest = page.getByTestId('base-test');
    this.baseCustom = page.getByTestId('base-custom');
    this.customUrl = page.getByTestId('custom-url-input');
    this.merchant = page.getByTestId('merchant-input');
    this.secret = page.getByTestId('secret-input');
    this.secretState = page.getByTestId('secret-state');
    this.save = page.getByTestId('save');
    this.notice = page.getByTestId('notice');
    this.register = page.getByTestId('register-callback');
    this.registerError = page.getByTestId('register-error');
    this.sandboxNote = page.getByTestId('nothing-to-set');
  }

  goto() {
    return this.page.goto('/console/modules');
  }

  error(field: string): Locator {
    return this.page.getByTestId(`error-${field}`);
  }

  /** Saves the Raiffeisen form and waits for the redirect back (JavaScript on or off). */
  async submit() {
    await Promise.all([this.page.waitForURL(/\/console\/modules/), this.save.click()]);
  }

  async registerCallback() {
    await Promise.all([this.page.waitForURL(/\/console\/modules/), this.register.click()]);
  }
}
