import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../../helpers/launch-chromium.js';
import { ADMIN_TOKEN, alertText, entry, startTestRig, type TestRig } from '../../helpers/start-test-relay.js';

describe('the console in a real browser', () => {
  let browser: Browser;
  let rig: TestRig;
  let context: BrowserContext;
  let page: Page;
  /** Dialogs a page opened: an alert() from injected markup would land here. */
  let dialogs: string[];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    rig = await startTestRig();
    context = await browser.newContext();
    page = await context.newPage();
    dialogs = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });
  afterEach(async () => {
    await context?.close();
    await rig?.close();
  });

  async function logIn(token = ADMIN_TOKEN) {
    await page.goto(`${rig.relay.url}/`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.fill('#token', token);
    await Promise.all([page.waitForNavigation(), page.click('#login-form button[type=submit]')]);
  }

  it('logs in, sees an alert live on Now and in the log, filters, clears a position with its confirmation, logs out', async () => {
    await logIn();
    expect(await page.textContent('h1')).toContain('Now');
    expect(await page.isVisible('#now-empty')).toBe(true);
    const cookie = (await context.cookies()).find((c) => c.name === 'relay_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });

    // Live on Now: the page is not reloaded, the row arrives over Server-Sent Events.
    expect((await rig.post(entry('trend-A'))).body.decision).toBe('forwarded');
    const row = page.locator('#now-rows tr', { hasText: 'trend-A' });
    await row.waitFor();
    expect(await row.locator('td[data-label="Direction"]').textContent()).toBe('long 1');
    expect(await row.locator('td[data-label="Last decision"]').textContent()).toContain('forwarded');
    expect(await page.isVisible('#now-empty')).toBe(false);

    // Live in the log.
    await page.click('nav >> text=Signal log');
    await page.locator('#log-rows li').first().waitFor();
    expect(await page.locator('#log-rows li').count()).toBe(1);
    expect((await rig.post(entry('swing-B'))).body.decision).toBe('blocked');
    await page.locator('#log-rows li', { hasText: 'swing-B' }).waitFor();
    expect(await page.locator('#log-rows li').count()).toBe(2);
    expect(await page.locator('#log-rows li').first().textContent()).toContain('blocked');

    // Filter by decision; the row opens its reason and its alert.
    await page.selectOption('select[name=decision]', 'blocked');
    await page.click('#log-filters button[type=submit]');
    await page.waitForURL(/decision=blocked/);
    expect(await page.locator('#log-rows li').count()).toBe(1);
    await page.click('#log-rows li summary');
    expect(await page.locator('#log-rows li .reason').textContent()).toContain('owned by trend-A');
    expect(await page.locator('#log-rows li pre.alert').textContent()).toContain('relay_id=swing-B;');
    await page.fill('input[name=strategy]', 'trend-A');
    await page.click('#log-filters button[type=submit]');
    await page.waitForURL(/strategy=trend-A/);
    expect(await page.isVisible('#log-empty')).toBe(true);

    // Clear the position: first a confirmation page, nothing changed yet.
    await page.click('nav >> text=Now');
    await page.click('#now-rows tr >> text=Clear…');
    await page.waitForURL(/\/console\/positions\/clear$/);
    expect(await page.textContent('.confirm-text')).toContain('Clear the position of bob on Sim101 / ES?');
    expect(await rig.relay.store.listPositions()).toHaveLength(1);
    await page.click('#confirm-form button[type=submit]');
    await page.waitForURL(/notice=cleared/);
    expect(await page.textContent('.notice')).toContain('Position cleared');
    expect(await page.isVisible('#now-empty')).toBe(true);
    expect(await rig.relay.store.listPositions()).toEqual([]);
    const [admin] = await rig.relay.store.listLogs({ decisions: ['admin'], limit: 1 });
    expect(admin?.reason).toBe('position cleared in the console from 127.0.0.1');

    // Log out: back to the login form, and the pages are closed again.
    await page.click('.logout button');
    await page.waitForURL(/\/console\/login\?out=1$/);
    expect(await page.textContent('.notice')).toBe('Logged out.');
    expect((await context.cookies()).find((c) => c.name === 'relay_console')).toBeUndefined();
    await page.goto(`${rig.relay.url}/console/log`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(dialogs).toEqual([]);
  });

  it('refuses a wrong token and stays on the login form', async () => {
    await logIn('not-the-admin-token-123');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(await page.textContent('.error')).toBe('Wrong admin token.');
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${rig.relay.url}/console/users`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
  });

  it('renders an alert carrying <script> and <img onerror> in relay_id and comment inert, as text, live and reloaded', async () => {
    // No `;` inside: it would end the field.
    const script = '<script>alert(1)</script>';
    const image = '<img src=x onerror=alert(2)>';
    await logIn();
    await page.click('nav >> text=Signal log');
    // Live: rows built by the page's script.
    await rig.post(`relay_user=bob; relay_id=${script}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; comment=${image};`);
    await rig.post(alertText({ relayId: 'inert-A', prev: 'flat', now: 'long', extra: `comment=${image} ${script}` }));
    await page.locator('#log-rows li', { hasText: 'inert-A' }).waitFor();
    await page.locator('#log-rows li', { hasText: 'bob / -' }).waitFor();
    const checkInert = async () => {
      for (const summary of await page.locator('#log-rows li summary').all()) await summary.click();
      const alerts = (await page.locator('#log-rows pre.alert').allTextContents()).join('\n');
      expect(alerts).toContain(image);
      expect(alerts).toContain(script);
      expect(await page.locator('main img').count()).toBe(0);
      expect(await page.locator('main script').count()).toBe(0);
      expect(dialogs).toEqual([]);
    };
    await checkInert();
    // Reloaded: the same rows rendered by the server's templates.
    await page.reload();
    await checkInert();
    await page.click('nav >> text=Strategies');
    expect(await page.textContent('main')).toContain('inert-A');
    expect(dialogs).toEqual([]);
  });
});
