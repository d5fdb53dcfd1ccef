import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontServer, startFrontServer } from '../../local/front-server.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { freePort } from './helpers.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** A 1×1 PNG, so the preview really decodes. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

let stack: LocalStack;
let front: FrontServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function openChat(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
  await page.goto(front.url);
  await page.fill('#demo-name', name);
  await page.click('#demo-form button[type="submit"]');
  await page.waitForSelector('#connection[data-state="open"]');
  return page;
}

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
    config: {
      webSocketUrl: stack.urls.webSocket,
      restUrl: stack.urls.rest,
      authMode: 'none',
      attachmentsUrl: stack.urls.s3,
    },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await front?.close();
  await stack?.close();
});

describe('browser attachments', () => {
  it("an image one user attaches shows in the other user's browser, with a download link", async () => {
    const alice = await openChat('alice');
    const bob = await openChat('bob');
    await alice.waitForSelector('#people-list li[data-user-id="bob"][data-status="online"]');

    // The attach button's file input: the PUT goes from the page's origin to S3 (a CORS preflight).
    await alice.setInputFiles('#attach-input', { name: 'pixel.png', mimeType: 'image/png', buffer: PIXEL });
    const image = bob.locator('#messages > li img[alt="pixel.png"]');
    await image.waitFor();
    await bob.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#messages > li img[alt="pixel.png"]');
      return img?.complete === true && img.naturalWidth === 1;
    });
    const link = bob.locator('#messages > li a.file-link', { hasText: 'pixel.png' });
    const href = await link.getAttribute('href');
    expect(href).toContain('/attachments/');
    const download = await fetch(String(href));
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PIXEL);
    // The sender sees it too, and nothing went wrong on either page.
    await alice.locator('#messages > li img[alt="pixel.png"]').waitFor();
    expect(await alice.textContent('#attach-status')).toBe('');
    expect(pageErrors).toEqual([]);
  });
});
