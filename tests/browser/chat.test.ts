import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFrontServer } from '../../local/front-server.js';
import { type LocalStack, repoRoot } from '../../local/stack.js';
import { type BrowserChat, type OpenChatOptions, startBrowserChat } from '../helpers/browser-chat.js';
import { deleteConnection } from '../helpers/local-stack.js';
import { SocketClient } from './helpers.js';

const artifacts = join(repoRoot, 'test-artifacts');

let chat: BrowserChat;
let stack: LocalStack;
let browser: Browser;
const clients: SocketClient[] = [];

const openChat = (name: string, viewport?: OpenChatOptions['viewport'], prepare?: OpenChatOptions['prepare']) =>
  chat.openChat(name, { viewport, prepare });

const waitConnected = (page: Page) => page.waitForSelector('#connection[data-state="open"]');

const messages = (page: Page, text?: string) =>
  text === undefined ? page.locator('#messages > li') : page.locator('#messages > li', { hasText: text });

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
}

async function joinRoom(page: Page, room: string): Promise<void> {
  await page.fill('#join-room', room);
  await page.click('#join-form button[type="submit"]');
  await page.waitForFunction((title) => document.getElementById('thread-title')?.textContent === title, `#${room}`);
}

async function client(userId: string, rooms: string[]): Promise<SocketClient> {
  const socket = await SocketClient.connect(stack.urls.webSocket, userId, rooms);
  clients.push(socket);
  return socket;
}

beforeAll(async () => {
  chat = await startBrowserChat();
  ({ stack, browser } = chat);
  await mkdir(artifacts, { recursive: true });
});

afterEach(() => {
  // An exception in the page fails the test that caused it, even if the page looked right.
  expect(chat.pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  for (const socket of clients) socket.close();
  await chat?.close();
});

describe('browser chat', () => {
  it('lets two people chat in a room and shows who is online', async () => {
    const alice = await openChat('alice');
    const bob = await openChat('bob');

    await alice.page.waitForSelector('#people-list li[data-user-id="bob"][data-status="online"]');
    await send(alice.page, 'Hi Bob, the deploy is green.');
    await messages(bob.page, 'Hi Bob, the deploy is green.').waitFor();
    expect(await messages(bob.page, 'Hi Bob').locator('.sender').textContent()).toBe('alice');

    await send(bob.page, 'Great, shipping it to prod now.');
    await messages(alice.page, 'shipping it').waitFor();
    await send(alice.page, 'Ping me if the canary complains.');
    await messages(bob.page, 'canary').waitFor();
    await alice.page.waitForSelector('#messages > li[data-status="sent"]:has-text("canary")');

    expect(await messages(alice.page).count()).toBe(3);
    expect(await messages(alice.page, 'Hi Bob').locator('.sender').textContent()).toBe('You');
    expect(await alice.page.getAttribute('#messages', 'aria-live')).toBe('polite');

    await alice.page.screenshot({ path: join(artifacts, 'chat-1280.png') });
    // The README's picture changes only when asked (UPDATE_SCREENSHOTS=1): a test run leaves the tree clean.
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await mkdir(join(repoRoot, 'docs', 'images'), { recursive: true });
      await copyFile(join(artifacts, 'chat-1280.png'), join(repoRoot, 'docs', 'images', 'chat.png'));
    }

    // bob leaves: alice's list keeps him, with the offline dot.
    await bob.context.close();
    await alice.page.waitForSelector('#people-list li[data-user-id="bob"][data-status="offline"]');
  });

  it('shows markup in a message as plain text', async () => {
    const alice = await openChat('mallory-target');
    const mallory = await openChat('mallory');
    let dialogs = 0;
    alice.page.on('dialog', (dialog) => {
      dialogs += 1;
      void dialog.dismiss();
    });
    const payload = '<img src=x onerror=alert(1)><b>bold?</b>';
    await send(mallory.page, payload);
    const shown = messages(alice.page, 'onerror').locator('.text');
    await shown.waitFor();

    expect(await shown.textContent()).toBe(payload);
    expect(await alice.page.locator('#messages img, #messages b').count()).toBe(0);
    expect(await shown.evaluate((node) => node.innerHTML)).toContain('&lt;img');
    expect(dialogs).toBe(0);
  });

  it('restores history after a reload and pages older messages in on scroll', async () => {
    // Three writers of twenty messages each: 60 messages, more than one page (50).
    const writers = await Promise.all(['w1', 'w2', 'w3'].map((user) => client(user, ['archive'])));
    await Promise.all(
      writers.map(async (writer, index) => {
        for (let n = 1; n <= 20; n++)
          await writer.post('archive', `archive ${index + 1}-${String(n).padStart(2, '0')}`);
      }),
    );

    const reader = await openChat('archivist');
    await joinRoom(reader.page, 'archive');
    await reader.page.waitForFunction(() => document.querySelectorAll('#messages > li').length === 50);
    expect(await reader.page.isVisible('#load-older')).toBe(true);

    // The scroll and a re-render (opening a reaction picker) in one task: the view renders before the
    // browser dispatches the scroll event, as when a frame arrives mid-scroll. The scroll must survive.
    await reader.page.locator('#scroller').evaluate((node) => {
      node.scrollTop = 0;
      node.querySelector<HTMLButtonElement>('#messages > li:last-child [data-action="react-menu"]')?.click();
    });
    await reader.page.waitForFunction(() => document.querySelectorAll('#messages > li').length === 60);
    await reader.page.waitForSelector('#history-status:has-text("beginning of the conversation")');
    const ids = await reader.page.$$eval('#messages > li', (items) =>
      items.map((item) => item.getAttribute('data-message-id')),
    );
    expect(new Set(ids).size).toBe(60);
    for (const writer of [1, 2, 3]) expect(await messages(reader.page, `archive ${writer}-01`).count()).toBe(1);

    await send(reader.page, 'Still here after the reload?');
    await reader.page.waitForSelector('#messages > li[data-status="sent"]:has-text("after the reload")');

    await reader.page.reload();
    await waitConnected(reader.page);
    // The room and the active thread survive the reload; the messages come back from REST.
    await reader.page.waitForFunction(() => document.getElementById('thread-title')?.textContent === '#archive');
    await messages(reader.page, 'Still here after the reload?').waitFor();
    expect(await messages(reader.page, 'archive 3-20').count()).toBe(1);
    expect(await reader.page.locator('#room-list [data-thread="room:general"]').count()).toBe(1);
  });

  it('catches up after its socket is cut, without duplicates, and sends what was written offline', async () => {
    // Carol's sockets pass through Playwright, which can refuse her reconnects while the "network" is
    // down: the messages below then provably arrive while she is away, whatever the backoff draws.
    let networkDown = false;
    let connectionId: string | undefined;
    const sent: Array<Record<string, unknown>> = [];
    const carol = await openChat('carol', undefined, (context) =>
      context.routeWebSocket(
        (url) => url.origin === new URL(stack.urls.webSocket).origin,
        (socket) => {
          if (networkDown) {
            void socket.close({ code: 4000, reason: 'test: network down' });
            return;
          }
          const server = socket.connectToServer();
          socket.onMessage((message) => {
            sent.push(JSON.parse(String(message)));
            server.send(message);
          });
          server.onMessage((message) => {
            const frame = JSON.parse(String(message)) as { type?: string; connectionId?: string };
            if (frame.type === 'welcome') connectionId = frame.connectionId;
            socket.send(message);
          });
        },
      ),
    );
    await joinRoom(carol.page, 'ops');
    const dan = await client('dan', ['ops']);
    await dan.post('ops', 'before the cut');
    await messages(carol.page, 'before the cut').waitFor();
    await carol.page.waitForFunction(() => document.querySelectorAll('#messages > li').length === 1);
    expect(connectionId).toBeDefined();

    networkDown = true;
    expect(await deleteConnection(stack, connectionId ?? '')).toBe(204);
    await carol.page.waitForSelector('#connection[data-state="waiting"]');

    for (const n of [1, 2, 3]) await dan.post('ops', `while away ${n}`);
    await send(carol.page, 'written while offline');
    await carol.page.waitForSelector('#messages > li[data-status="pending"]:has-text("written while offline")');
    const sentBeforeReconnect = sent.length;

    networkDown = false;
    await messages(carol.page, 'while away 3').waitFor();
    await carol.page.waitForSelector('#messages > li[data-status="sent"]:has-text("written while offline")');
    await dan.waitFor((frame) => frame.type === 'message' && frame.message === 'written while offline');

    const resumed = sent.slice(sentBeforeReconnect).find((frame) => frame.action === 'resume' && frame.room === 'ops');
    expect(resumed).toMatchObject({ action: 'resume', room: 'ops', lastMessageId: expect.any(String) });
    for (const text of ['before the cut', 'while away 1', 'while away 2', 'while away 3', 'written while offline']) {
      expect(await messages(carol.page, text).count(), text).toBe(1);
    }
    expect(await messages(carol.page).count()).toBe(5);
    expect(dan.frames.filter((frame) => frame.message === 'written while offline')).toHaveLength(1);
  });

  it('shows error frames next to the composer', async () => {
    const erin = await openChat('erin');
    await erin.page.fill('#join-room', 'no spaces allowed');
    await erin.page.click('#join-form button[type="submit"]');
    const error = erin.page.locator('#composer-error');
    await error.waitFor();
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.textContent()).toContain('validation_failed');
    expect(await error.textContent()).toContain('room may contain only letters');
    await erin.page.click('#error-dismiss');
    await error.waitFor({ state: 'hidden' });
  });

  it('shows who is typing, and unread badges that clear when the room is opened from the keyboard', async () => {
    const alice = await openChat('typing-alice');
    const bob = await openChat('typing-bob');
    await alice.page.waitForSelector('#people-list li[data-user-id="typing-bob"][data-status="online"]');

    await bob.page.fill('#composer-input', 'Half a thought');
    await alice.page.waitForFunction(() => document.getElementById('typing')?.textContent === 'typing-bob is typing…');
    expect(await alice.page.getAttribute('#typing', 'aria-live')).toBe('polite');
    expect(bob.sent.filter((frame) => frame.action === 'typing')).toEqual([{ action: 'typing', room: 'general' }]);
    // Their message ends the indicator at once.
    await bob.page.press('#composer-input', 'Enter');
    await messages(alice.page, 'Half a thought').waitFor();
    expect(await alice.page.textContent('#typing')).toBe('');

    // Messages in a room alice is not looking at: a badge, announced to screen readers too.
    await joinRoom(alice.page, 'flow-room');
    await alice.page.click('#room-list button[data-thread="room:general"]');
    const carol = await client('typing-carol', ['flow-room']);
    await carol.post('flow-room', 'first');
    await carol.post('flow-room', 'second');
    const flowButton = alice.page.locator('#room-list button[data-thread="room:flow-room"]');
    await flowButton.locator('.badge', { hasText: '2' }).waitFor();
    expect(await flowButton.locator('.sr-only').textContent()).toBe(', 2 unread');

    await flowButton.focus();
    await alice.page.keyboard.press('Enter');
    await alice.page.waitForFunction(() => document.getElementById('thread-title')?.textContent === '#flow-room');
    await flowButton.locator('.badge').waitFor({ state: 'detached' });
    await alice.page.waitForFunction(() => document.querySelectorAll('#messages > li').length === 2);
    const read = alice.sent.filter((frame) => frame.action === 'markRead' && frame.room === 'flow-room');
    expect(read.at(-1)).toEqual({ action: 'markRead', room: 'flow-room', upToSeq: 2 });

    // The server kept it per user: a second device of alice's starts with nothing unread there.
    // The markRead frame is on its way when the page shows the room read, so wait for the server to apply it.
    const unreadOverRest = async () =>
      (await fetch(`${stack.urls.rest}/rooms/flow-room/unread`, { headers: { 'x-user-id': 'typing-alice' } })).json();
    await expect.poll(unreadOverRest).toMatchObject({ unread: 0, readSeq: 2 });
  });

  it('sends a direct message and shows when it was read', async () => {
    const frank = await openChat('frank');
    const grace = await openChat('grace');

    await frank.page.fill('#dm-user', 'grace');
    await frank.page.click('#dm-form button[type="submit"]');
    await frank.page.waitForFunction(() => document.getElementById('thread-title')?.textContent === 'grace');
    await send(frank.page, 'Lunch at noon?');
    const ticks = frank.page.locator('#messages > li:has-text("Lunch at noon?") .ticks');
    await frank.page.waitForSelector(
      '#messages > li:has-text("Lunch at noon?"):is([data-status="sent"], [data-status="delivered"])',
    );

    // grace is looking at a room: the conversation waits, unread.
    const conversation = grace.page.locator('#conversation-list [data-thread="dm:frank"]');
    await conversation.locator('.badge').waitFor();
    expect(await conversation.locator('.badge').textContent()).toBe('1');
    await frank.page.waitForSelector('#messages > li[data-status="delivered"]:has-text("Lunch at noon?")');
    expect(await ticks.textContent()).toContain('✓✓');
    expect(await ticks.getAttribute('class')).not.toContain('read');

    await conversation.click();
    await messages(grace.page, 'Lunch at noon?').waitFor();
    await frank.page.waitForSelector('#messages > li[data-status="read"]:has-text("Lunch at noon?")');
    expect(await ticks.getAttribute('class')).toContain('read');
    expect(await ticks.textContent()).toContain('Read');
    const markRead = grace.sent.find((frame) => frame.action === 'markRead' && 'conversationId' in frame);
    expect(markRead).toMatchObject({
      action: 'markRead',
      upToMessageId: expect.any(String),
      conversationId: expect.any(String),
    });
  });

  it('signs in through Cognito (answering the new-password challenge) and sends the token on both APIs', async () => {
    const cognitoFront = await startFrontServer({
      port: 0,
      config: {
        webSocketUrl: stack.urls.webSocket,
        restUrl: stack.urls.rest,
        authMode: 'cognito',
        cognito: { userPoolId: 'us-east-1_Test', clientId: 'test-client', region: 'us-east-1' },
      },
    });
    try {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const idToken = `${encode({ alg: 'RS256' })}.${encode({
        sub: 'sub-1234',
        'cognito:username': 'ivan',
        exp: Math.floor(Date.now() / 1000) + 3600,
      })}.signature`;
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(20_000);
      chat.contexts.push(context);
      const calls: Array<{ target: string | undefined; body: Record<string, unknown> }> = [];
      // Cognito itself is out of reach here: Playwright answers its two calls.
      await context.route('https://cognito-idp.us-east-1.amazonaws.com/', async (route) => {
        const target = route.request().headers()['x-amz-target'];
        calls.push({ target, body: route.request().postDataJSON() });
        const body = target?.endsWith('.InitiateAuth')
          ? { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'challenge-session' }
          : { AuthenticationResult: { IdToken: idToken, RefreshToken: 'refresh', ExpiresIn: 3600 } };
        await route.fulfill({ status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(body) });
      });
      const page = await context.newPage();
      const socketUrls: string[] = [];
      page.on('websocket', (socket) => socketUrls.push(socket.url()));
      const restAuthorization: string[] = [];
      page.on('request', (request) => {
        if (request.url().startsWith(stack.urls.rest)) restAuthorization.push(request.headers().authorization ?? '');
      });

      await page.goto(cognitoFront.url);
      await page.fill('#cognito-username', 'ivan');
      await page.fill('#cognito-password', 'first-password');
      await page.click('#cognito-form button[type="submit"]');
      await page.waitForSelector('#cognito-new-password');
      await page.fill('#cognito-new-password', 'a-new-password-1');
      await page.click('#cognito-form button[type="submit"]');
      await waitConnected(page);

      expect(calls.map((call) => call.target)).toEqual([
        'AWSCognitoIdentityProviderService.InitiateAuth',
        'AWSCognitoIdentityProviderService.RespondToAuthChallenge',
      ]);
      expect(calls[0]?.body).toEqual({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: 'test-client',
        AuthParameters: { USERNAME: 'ivan', PASSWORD: 'first-password' },
      });
      expect(calls[1]?.body).toMatchObject({
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: 'challenge-session',
        ChallengeResponses: { USERNAME: 'ivan', NEW_PASSWORD: 'a-new-password-1' },
      });
      expect(new URL(socketUrls[0] ?? 'ws://x').searchParams.get('token')).toBe(idToken);
      expect(new URL(socketUrls[0] ?? 'ws://x').searchParams.has('userId')).toBe(false);
      await page.waitForFunction(() => document.getElementById('history-status')?.textContent !== 'Loading messages…');
      expect(restAuthorization.length).toBeGreaterThan(0);
      expect(new Set(restAuthorization)).toEqual(new Set([`Bearer ${idToken}`]));
    } finally {
      await cognitoFront.close();
    }
  });

  it('fits a 375 px screen, with the rooms behind a menu button', async () => {
    const phone = await openChat('heidi', { width: 375, height: 740 });
    await send(phone.page, 'Typing this on my phone, long words wrap: supercalifragilisticexpialidocious-deployment');
    await phone.page.waitForSelector('#messages > li[data-status="sent"]');
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await phone.page.isVisible('#sidebar')).toBe(false);
    await phone.page.screenshot({ path: join(artifacts, 'chat-375.png') });

    await phone.page.click('#menu-toggle');
    expect(await phone.page.getAttribute('#menu-toggle', 'aria-expanded')).toBe('true');
    expect(await phone.page.isVisible('#join-room')).toBe(true);
    await phone.page.screenshot({ path: join(artifacts, 'chat-375-menu.png') });
    await phone.page.keyboard.press('Escape');
    expect(await phone.page.isVisible('#sidebar')).toBe(false);

    // Keyboard only: the composer is reachable and Enter sends.
    await phone.page.focus('#composer-input');
    await phone.page.keyboard.type('sent from the keyboard');
    await phone.page.keyboard.press('Enter');
    await messages(phone.page, 'sent from the keyboard').waitFor();
  });
});
