import type { Locator, Page } from '@playwright/test';

/** `/console/users`: the list, the add form, role / disable / enable per row, password reset. */
export class UsersPage {
  readonly page: Page;
  readonly login: Locator;
  readonly role: Locator;
  readonly password: Locator;
  readonly passwordAgain: Locator;
  readonly add: Locator;
  readonly notice: Locator;
  readonly actionError: Locator;
  readonly pageError: Locator;

  constructor(page: Page) {
    this.page = page;
    this.login = page.getByTestId('login-input');
    this.role = page.getByTestId('role-input');
    this.password = page.getByTestId('password-input');
    this.passwordAgain = page.getByTestId('password-again-input');
    this.add = page.getByTestId('add-user');
    this.notice = page.getByTestId('notice');
    this.actionError = page.getByTestId('action-error');
    this.pageError = page.getByTestId('page-error');
  }

  goto() {
    return this.page.goto('/console/users');
  }

  error(field: string): Locator {
    return this.page.getByTestId(`error-${field}`);
  }

  row(login: string): Locator {
    return this.page.locator(`[data-testid="user-row"][data-login="${login}"]`);
  }

  /** Fills the add form and submits it; waits for the page to come back. */
  async addUser(login: string, role: string, password: string, again = password) {
    await this.login.fill(login);
    await this.role.selectOption(role);
    await this.password.fill(password);
    await this.passwordAgain.fill(again);
    await Promise.all([this.page.waitForURL(/\/console\/users/), this.add.click()]);
  }

  async disable(login: string) {
    await Promise.all([
      this.page.waitForURL(/\/console\/users\?done=disabled/),
      this.row(login).getByTestId('disable').click(),
    ]);
  }
}
