import type { Page } from '@playwright/test';

/** The console's menu: «Сводка», «Транзакции», «Журнал», «Сверка» on top; configuration under
 * «Параметры магазина и настройка операций» (a <details> menu: works with JavaScript off). */
export class ConsoleMenu {
  constructor(readonly page: Page) {}

  /** Opens the settings menu and follows one of its links (`nav-tills`, `nav-modules`, …). */
  async openSettings(testId: string) {
    await this.page.getByTestId('nav-settings-toggle').click();
    await Promise.all([this.page.waitForURL(/\/console\//), this.page.getByTestId(testId).click()]);
  }
}
