import { test, expect } from '@playwright/test';
import { HomePage } from '../pages/HomePage';

const LEAD = 'Интегратор QR-оплат СБП для касс и киосков.';

test('home page renders server-side with heading, lead and OpenAPI link', async ({ page, request }) => {
  const home = new HomePage(page);
  const response = await home.goto();
  expect(response?.status()).toBe(200);

  // Server-side rendering: the raw HTML already holds the content.
  const html = await response!.text();
  expect(html).toContain('data-testid="home"');
  expect(html).toContain(LEAD);

  await expect(home.main).toBeVisible();
  await expect(home.heading).toBeVisible();
  await expect(home.main).toContainText(LEAD);
  await expect(home.openapiLink).toHaveAttribute('href', '/api/v1/openapi.json');

  // For a person to look at; never fails the test.
  await page.screenshot({ path: '/tmp/e2e-home.png', fullPage: true }).catch(() => {});

  const href = await home.openapiLink.getAttribute('href');
  const doc = await request.get(href!);
  expect(doc.ok()).toBeTruthy();
  expect(doc.headers()['content-type']).toContain('application/json');
  expect(await doc.json()).toHaveProperty('openapi');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('home page still shows heading, lead and OpenAPI link', async ({ page }) => {
    const home = new HomePage(page);
    await home.goto();
    await expect(home.heading).toBeVisible();
    await expect(home.main).toContainText(LEAD);
    await expect(home.openapiLink).toHaveAttribute('href', '/api/v1/openapi.json');
  });
});
