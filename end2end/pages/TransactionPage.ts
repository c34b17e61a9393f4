import type { Locator, Page } from '@playwright/test';

/** `/console/transactions/{id}`: one payment, its refunds and the refund form. */
export class TransactionPage {
  readonly page: Page;
  readonly status: Locator;
  readonly paymentId: Locator;
  readonly left: Locator;
  readonly refunded: Locator;
  readonly qr: Locator;
  readonly timeline: Locator;
  readonly refundForm: Locator;
  readonly refundPart: Locator;
  readonly refundAmount: Locator;
  readonly refundReason: Locator;
  readonly refundSubmit: Locator;
  readonly refundQuestion: Locator;
  readonly refundConfirm: Locator;
  readonly refundDone: Locator;
  readonly refundRows: Locator;
  readonly amountError: Locator;

  constructor(page: Page) {
    this.page = page;
    this.status = page.getByTestId('detail-status');
    this.paymentId = page.getByTestId('payment-id');
    this.left = page.getByTestId('left');
    this.refunded = page.getByTestId('refunded');
    this.qr = page.getByTestId('qr-preview');
    this.timeline = page.getByTestId('timeline-entry');
    this.refundForm = page.getByTestId('refund-form');
    this.refundPart = page.getByTestId('refund-part');
    this.refundAmount = page.getByTestId('refund-amount-input');
    this.refundReason = page.getByTestId('refund-reason');
    this.refundSubmit = page.getByTestId('refund-submit');
    this.refundQuestion = page.getByTestId('refund-question');
    this.refundConfirm = page.getByTestId('refund-confirm');
    this.refundDone = page.getByTestId('refund-done');
    this.refundRows = page.getByTestId('refund-row');
    this.amountError = page.getByTestId('error-amount');
  }

  /** Fills the part-refund form and sends it (the page then asks for confirmation). */
  async askPartRefund(amount: string, reason: string) {
    await this.refundPart.check();
    await this.refundAmount.fill(amount);
    await this.refundReason.fill(reason);
    await this.refundSubmit.click();
  }
}
