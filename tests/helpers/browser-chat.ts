import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { freePort } from '../../local/free-port.js';
import { type FrontServer, startFrontServer } from '../../local/front-server.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ChatPage {
  page: Page;
  context: BrowserContext;
  /** Frames the page sent, oldest first. */
  sent: Array<Record<string, unknown>>;
  /** The connection id from the most recent welcome frame. */
  connectionId(): string | undefined;
}

export interface OpenChatOptions {
  viewport?: { width: number; height: number };
  /** Runs on the fresh context before the page opens (routes, offline mode...). */
  prepare?: (context: BrowserContext) => Promise<void>;
}

/** The local stack, the front served against it and one Chromium, shared by a browser test file. */
export interface BrowserChat {
  stack: LocalStack;
  front: FrontServer;
  browser: Browser;
  /** Every context opened through this harness; closed by `close()`. */
  contexts: BrowserContext[];
  /** Uncaught exceptions in any page, as `name: message`. */
  pageErrors: string[];
  /** A fresh browser profile (its own localStorage), signed in with a demo name. */
  openChat(name: string, options?: OpenChatOptions): Promise<ChatPage>;
  close(): Promise<void>;
}

/** `frontConfig` is merged over the default /config.json (WebSocket and REST URLs, no auth). */
export async function startBrowserChat(
  frontConfig: (stack: LocalStack) => Record<string, unknown> = () => ({}),
): Promise<BrowserChat> {
  // The handlers log through Powertools; only problems are interesting here.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const stack = await startLocalStack({
    restPort: 0,
    webSocketPort: 0,
    dynamoDbPort: await freePort(),
    eventBridgePort: 0,
    stepFunctionsPort: 0,
  });
  const front = await startFrontServer({
    port: 0,
    config: {
      webSocketUrl: stack.urls.webSocket,
      restUrl: stack.urls.rest,
      authMode: 'none',
      ...frontConfig(stack),
    },
  });
  const browser = await chromium
    .launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    .catch(async (error: unknown) => {
      // Nothing else holds the servers yet, so close them here rather than leak them.
      await front.close();
      await stack.close();
      throw error;
    });
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function openChat(name: string, options: OpenChatOptions = {}): Promise<ChatPage> {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    await options.prepare?.(context);
    const page = await context.newPage();
    const sent: Array<Record<string, unknown>> = [];
    let connectionId: string | undefined;
    page.on('websocket', (socket) => {
      socket.on('framesent', (frame) => sent.push(JSON.parse(String(frame.payload))));
      socket.on('framereceived', (frame) => {
        const parsed = JSON.parse(String(frame.payload)) as { type?: string; connectionId?: string };
        if (parsed.type === 'welcome') connectionId = parsed.connectionId;
      });
    });
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    await page.goto(front.url);
    await page.fill('#demo-name', name);
    await page.click('#demo-form button[type="submit"]');
    await page.waitForSelector('#connection[data-state="open"]');
    return { page, context, sent, connectionId: () => connectionId };
  }

  async function close(): Promise<void> {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser.close();
    await front.close();
    await stack.close();
  }

  return { stack, front, browser, contexts, pageErrors, openChat, close };
}

/**
 * The harness for the calling test file: started before its tests and closed after them, and an
 * exception in any page fails the test that caused it, even if the page looked right. The fields are
 * read inside tests (they exist once beforeAll has run).
 */
export function useBrowserChat(frontConfig?: (stack: LocalStack) => Record<string, unknown>): BrowserChat {
  let started: BrowserChat | undefined;
  beforeAll(async () => {
    started = await startBrowserChat(frontConfig);
  });
  afterEach(() => {
    expect(started?.pageErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await started?.close();
  });
  const current = (): BrowserChat => {
    if (!started) throw new Error('the browser chat is not running (use it inside a test)');
    return started;
  };
  return {
    get stack() {
      return current().stack;
    },
    get front() {
      return current().front;
    },
    get browser() {
      return current().browser;
    },
    get contexts() {
      return current().contexts;
    },
    get pageErrors() {
      return current().pageErrors;
    },
    openChat: (name, options) => current().openChat(name, options),
    close: () => current().close(),
  };
}
