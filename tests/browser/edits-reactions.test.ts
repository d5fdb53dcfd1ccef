import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FrontServer, startFrontServer } from '../../local/front-server.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { freePort } from './helpers.js';

// The handlers log through Powertools; only problems are interesting here.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let stack: LocalStack;
let front: FrontServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

/** A fresh browser profile signed in with a demo name, in `room`. */
async function openChat(name: string, room: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
  await page.goto(front.url);
  await page.fill('#demo-name', name);
  await page.click('#demo-form button[type="submit"]');
  await page.waitForSelector('#connection[data-state="open"]');
  await page.fill('#join-room', room);
  await page.click('#join-form button[type="submit"]');
  await page.waitForFunction((title) => document.getElementById('thread-title')?.textContent === title, `#${room}`);
  return page;
}

const message = (page: Page, text: string) => page.locator('#messages > li', { hasText: text });

beforeAll(async () => {
  stack = await startLocalStack({
    restPort: 0,
    webSocketPort: 0,
    dynamoDbPort: await freePort(),
    eventBridgePort: 0,
    stepFunctionsPort: 0,
  });
  front = await startFrontServer({
    port: 0,
    config: { webSocketUrl: stack.urls.webSocket, restUrl: stack.urls.rest, authMode: 'none' },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await front?.close();
  await stack?.close();
});

describe('browser edits and reactions', () => {
  it('an edit (up arrow) and a reaction (picker, chip) made in one browser show in the other, and after a reload', async () => {
    const alice = await openChat('ed-alice', 'edits');
    const bob = await openChat('ed-bob', 'edits');

    await alice.fill('#composer-input', 'Lunch at noen?');
    await alice.press('#composer-input', 'Enter');
    await alice.waitForSelector('#messages > li[data-status="sent"]:has-text("noen")');
    await message(bob, 'Lunch at noen?').waitFor();

    // Up arrow in the empty composer takes the last own message; Enter saves the edit.
    await alice.press('#composer-input', 'ArrowUp');
    expect(await alice.inputValue('#composer-input')).toBe('Lunch at noen?');
    expect(await alice.isVisible('#composer-editing')).toBe(true);
    await alice.fill('#composer-input', 'Lunch at noon?');
    await alice.press('#composer-input', 'Enter');
    expect(await alice.isVisible('#composer-editing')).toBe(false);
    const edited = message(bob, 'Lunch at noon?');
    await edited.locator('.edited').waitFor();
    expect(await message(bob, 'noen').count()).toBe(0);
    await message(alice, 'Lunch at noon?').locator('.edited').waitFor();

    // bob reacts from the keyboard: the React button, then 👍 in the picker.
    await edited.locator('[data-action="react-menu"]').focus();
    await bob.keyboard.press('Enter');
    const picked = edited.locator('.reaction-picker button[aria-label="React with 👍"]');
    await picked.waitFor();
    expect(await picked.evaluate((node) => node === document.activeElement)).toBe(true);
    await bob.keyboard.press('Enter');
    await bob.waitForSelector('#messages .reaction[data-emoji="👍"][aria-pressed="true"]:has-text("👍 1")');
    expect(await bob.locator('.reaction-picker').count()).toBe(0);

    // alice sees the chip, not pressed (not hers), and clicks it: now two.
    const chip = alice.locator('#messages .reaction[data-emoji="👍"]');
    await chip.filter({ hasText: '👍 1' }).waitFor();
    expect(await chip.getAttribute('aria-pressed')).toBe('false');
    await chip.click();
    await alice.waitForSelector('#messages .reaction[data-emoji="👍"][aria-pressed="true"]:has-text("👍 2")');
    await bob.waitForSelector('#messages .reaction[data-emoji="👍"]:has-text("👍 2")');

    // After a reload bob's history keeps the edit, the counts and which chip is his.
    await bob.reload();
    await bob.waitForSelector('#connection[data-state="open"]');
    await message(bob, 'Lunch at noon?').locator('.edited').waitFor();
    await bob.waitForSelector('#messages .reaction[data-emoji="👍"][aria-pressed="true"]:has-text("👍 2")');

    // Clicking his own chip takes his reaction back, for both.
    await bob.click('#messages .reaction[data-emoji="👍"]');
    await alice.waitForSelector('#messages .reaction[data-emoji="👍"][aria-pressed="true"]:has-text("👍 1")');
  });
});
