import { test, expect } from '@playwright/test';

const tillKey = process.env.QRPAY_E2E_TILL_KEY;

test.describe('till API', () => {
  test('create a payment, pay it in the sandbox, see it paid', async ({ request }) => {
    expect(tillKey, 'QRPAY_E2E_TILL_KEY must hold a till key (run.sh sets it)').toBeTruthy();
    const auth = { Authorization: `Bearer ${tillKey}` };

    const created = await request.post('/api/v1/payments', {
      headers: { ...auth, 'Idempotency-Key': `e2e-${Date.now()}-${Math.random()}` },
      data: { amount: 12345, receipt: 'r-1' },
    });
    expect(created.status()).toBe(201);
    const payment = await created.json();
    expect(payment.id).toBeTruthy();
    expect(payment.status).toBe('pending');
    expect(payment.qr.png_url).toBeTruthy();

    const paid = await request.post(`/api/v1/sandbox/payments/${payment.id}/pay`, { headers: auth });
    expect(paid.status()).toBe(200);
    expect((await paid.json()).status).toBe('paid');

    const fetched = await request.get(`/api/v1/payments/${payment.id}`, { headers: auth });
    expect(fetched.ok()).toBeTruthy();
    expect((await fetched.json()).status).toBe('paid');
  });

  test('a request without a key gets 401 unauthorized', async ({ request }) => {
    const res = await request.post('/api/v1/payments', {
      headers: { 'Idempotency-Key': `e2e-nokey-${Date.now()}` },
      data: { amount: 100, receipt: 'r-nokey' },
    });
    expect(res.status()).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  });
});
