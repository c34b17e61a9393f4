import type { Locator, Page } from '@playwright/test';

/** `/console/transactions/{id}`: one payment, its refunds, the refund form and the support actions. */
export class TransactionPage {
  readonly page: Page;
  readonly status: Locator;
  readonly paymentId: Locator;
  readonly left: Locator;
  readonly refunded: Locator;
  readonly qr: Locator;
  readonly qrVoid: Locator;
  readonly support: Locator;
  readonly cancelSubmit: Locator;
  readonly askSubmit: Locator;
  readonly republishSubmit: Locator;
  readonly confirmCancel: Locator;
  readonly outcome: Locator;
  readonly outcomeDetail: Locator;
  readonly actionError: Locator;
  readonly timelineTexts: Locator;
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
    this.qrVoid = page.getByTestId('qr-void');
    this.support = page.getByTestId('support');
    this.cancelSubmit = page.getByTestId('cancel-submit');
    this.askSubmit = page.getByTestId('ask-submit');
    this.republishSubmit = page.getByTestId('republish-submit');
    this.confirmCancel = page.getByTestId('confirm-cancel');
    this.outcome = page.getByTestId('outcome');
    this.outcomeDetail = page.getByTestId('outcome-detail');
    this.actionError = page.getByTestId('action-error');
    this.timelineTexts = page.getByTestId('timeline-text');
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

  /** The question of a pending `kind` action (`refund`, `cancel`, `ask`, `republish`). */
  question(kind: string): Locator {
    return this.page.getByTestId(`${kind}-question`);
  }

  /** «Подтвердить» of a pending `kind` action. */
  confirm(kind: string): Locator {
    return this.page.getByTestId(`${kind}-confirm`);
  }

  /** What the confirmed `kind` action did. */
  done(kind: string): Locator {
    return this.page.getByTestId(`${kind}-done`);
  }

  /** Fills the part-refund form and sends it (the page then asks for confirmation). */
  async askPartRefund(amount: string, reason: string) {
    await this.refundPart.check();
    await this.refundAmount.fill(amount);
    await this.refundReason.fill(reason);
    await this.refundSubmit.click();
  }
}
