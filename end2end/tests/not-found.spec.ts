import { test, expect } from '@playwright/test';
import { NotFoundPage } from '../pages/NotFoundPage';

test('unknown path shows the not-found page', async ({ page }) => {
  const notFound = new NotFoundPage(page);
  await notFound.goto('/nope');
  await expect(notFound.root).toBeVisible();
  await expect(notFound.root).toContainText('Страница не найдена');
});
