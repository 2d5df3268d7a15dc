/// <reference lib="dom" />
/**
 * The chat page and the dashboard in Debian's headless Chromium (playwright-core, never a
 * downloaded browser), against a real demo process in embedded mode.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/load/load-generator.js';
import { type DemoProcess, startDemoProcess } from '../helpers/demo-process.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing`);

describe.skipIf(!haveChromium)('in the browser', () => {
  let demo: DemoProcess;
  let browser: Browser;

  beforeAll(async () => {
    [demo, browser] = await Promise.all([
      startDemoProcess(),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        timeout: 30_000,
      }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    expect(await demo?.stop()).toBe(0);
  });

  it('the chat page creates a conversation, sends a message and shows the assistant reply', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${demo.url}/`, { timeout: 15_000 });
    await page.fill('#user', 'browser-user');
    await page.dispatchEvent('#user', 'change');
    await page.fill('#new-title', 'From the browser');
    await page.click('#create');
    await page.waitForFunction(() => document.getElementById('title')!.textContent === 'From the browser');
    await page.fill('#message', 'hello from chromium');
    await page.click('#send');
    await page.waitForSelector('.msg.user >> text=hello from chromium', { timeout: 10_000 });
    await page.click('#reply');
    await page.waitForSelector('.msg.assistant >> text=You wrote 3 words. Tell me more.', {
      timeout: 10_000,
    });
    const list = await page.textContent('#conversations');
    expect(list).toContain('From the browser');
    expect(await page.textContent('#error')).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the dashboard shows live numbers while load runs', async () => {
    const load = runLoad({
      targets: [demo.url],
      conversations: 500,
      concurrency: 4,
      phases: [{ name: 'steady', durationMs: 8_000 }],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const response = await page.goto(`${demo.url}/dashboard`, { timeout: 15_000 });
      expect(response?.status()).toBe(200);
      type Dash = {
        updates: number;
        last: { rates: { http: number; cache: number }; hitRatio: Record<string, number | null> };
      };
      await page.waitForFunction(
        () => {
          const d = (window as unknown as { __perfDashboard?: Dash }).__perfDashboard;
          return d !== undefined && d.updates >= 3 && d.last.rates.http > 0 && d.last.rates.cache > 0;
        },
        undefined,
        { timeout: 20_000 },
      );
      const state = await page.evaluate(() => {
        const d = (window as unknown as { __perfDashboard: Dash }).__perfDashboard;
        return { last: d.last, updates: d.updates, status: document.getElementById('status')!.textContent };
      });
      expect(state.status).toMatch(/^live/);
      expect(state.last.rates.http).toBeGreaterThan(0);
      expect(state.last.hitRatio.l1).toBeGreaterThan(0);
      // Still moving: more snapshots arrive while the load runs.
      await page.waitForFunction(
        (n) => (window as unknown as { __perfDashboard: Dash }).__perfDashboard.updates >= n + 2,
        state.updates,
        { timeout: 10_000 },
      );
      await page.close();
    } finally {
      const result = await load;
      expect(result.total.errors).toBe(0);
    }
  });
});
