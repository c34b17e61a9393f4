import type { Locator, Page } from '@playwright/test';

export class LoginPage {
  readonly page: Page;
  readonly root: Locator;
  readonly login: Locator;
  readonly password: Locator;
  readonly submit: Locator;
  readonly error: Locator;
  readonly notice: Locator;

  constructor(page: Page) {
    this.page = page;
    this.root = page.getByTestId('login-page');
    this.login = page.getByTestId('login-input');
    this.password = page.getByTestId('password-input');
    this.submit = page.getByTestId('login-submit');
    this.error = page.getByTestId('login-error');
    this.notice = page.getByTestId('notice');
  }

  async goto() {
    return this.page.goto('/console/login');
  }

  async signIn(login: string, password: string) {
    await this.login.fill(login);
    await this.password.fill(password);
    await Promise.all([this.page.waitForURL(/\/console\//), this.submit.click()]);
  }
}
