import { defineConfig } from '@playwright/test';

// The server is started outside the runner (see run.sh); we only need its URL.
const baseURL = process.env.QRPAY_E2E_URL ?? 'http://127.0.0.1:3100';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  retries: 0,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  use: {
    baseURL,
    trace: 'off',
    launchOptions: {
      executablePath: process.env.QRPAY_E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
});
