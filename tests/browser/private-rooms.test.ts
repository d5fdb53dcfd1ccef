import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../local/stack.js';
import { useBrowserChat } from '../helpers/browser-chat.js';

const chat = useBrowserChat();

const TITLE = 'Launch plans';

/** The room list's entry for the private room (found by its title: the id says nothing). */
const roomEntry = (page: Page) => page.locator('#room-list .thread-button', { hasText: TITLE });
const message = (page: Page, text: string) => page.locator('#messages > li', { hasText: text });
const errorLine = (page: Page) => page.locator('#composer-error-text');

describe('browser private rooms', () => {
  it('alice creates a private room and invites bob; they chat; carol cannot see or join it; a kick takes it off both of bob’s pages', async () => {
    const alice = (await chat.openChat('pr-alice')).page;
    const bobChat = await chat.openChat('pr-bob');
    const bob = bobChat.page;
    const carol = (await chat.openChat('pr-carol')).page;

    // alice creates the room: it opens, with a lock and her settings (she is the owner).
    await alice.fill('#create-title', TITLE);
    await alice.click('#create-form button[type="submit"]');
    await alice.waitForFunction(
      (title) => document.getElementById('thread-title')?.textContent === `🔒 ${title}`,
      TITLE,
    );
    const entry = roomEntry(alice);
    expect(await entry.locator('.lock').count()).toBe(1);
    expect(await entry.textContent()).toContain('private room');
    const key = await entry.getAttribute('data-thread');
    const roomId = key?.replace(/^room:/, '') ?? '';
    expect(roomId).toMatch(/^priv_/);
    expect(await alice.isVisible('#room-admin')).toBe(true);
    expect(await alice.textContent('#room-role')).toBe('Private room · your role: owner');
    for (const control of ['#invite-form', '#manage-remove', '#manage-role', '#quit-room', '#delete-room']) {
      expect(await alice.isVisible(control), control).toBe(true);
    }

    // Nobody else sees it before the invite.
    expect(await roomEntry(bob).count()).toBe(0);

    // The invite puts it in bob's list without taking him away from the room he is in.
    await alice.fill('#invite-user', 'pr-bob');
    await alice.click('#invite-form button[type="submit"]');
    await roomEntry(bob).waitFor();
    expect(await bob.textContent('#thread-title')).toBe('#general');
    await alice.locator('#people-list li[data-user-id="pr-bob"] .role-tag', { hasText: 'member' }).waitFor();

    // bob opens it: a member sees the room's settings but none of the controls of owners and moderators.
    await roomEntry(bob).click();
    await bob.waitForFunction((title) => document.getElementById('thread-title')?.textContent === `🔒 ${title}`, TITLE);
    expect(await bob.textContent('#room-role')).toBe('Private room · your role: member');
    for (const control of ['#invite-form', '#manage-form', '#delete-room']) {
      expect(await bob.isVisible(control), control).toBe(false);
    }
    expect(await bob.isVisible('#quit-room')).toBe(true);
    // Unsubscribing (Leave room) would hide a membership the list could not bring back.
    expect(await bob.isVisible('#leave-room')).toBe(false);

    await bob.fill('#composer-input', 'Hi alice, bob here');
    await bob.press('#composer-input', 'Enter');
    await message(alice, 'Hi alice, bob here').waitFor();
    await alice.fill('#composer-input', 'Welcome, bob');
    await alice.press('#composer-input', 'Enter');
    await message(bob, 'Welcome, bob').waitFor();
    await mkdir(join(repoRoot, 'test-artifacts'), { recursive: true });
    await alice.screenshot({ path: join(repoRoot, 'test-artifacts', 'private-room-owner.png') });

    // carol: not in her list, and joining the id answers not found, as for an id nobody created.
    expect(await roomEntry(carol).count()).toBe(0);
    await carol.fill('#join-room', roomId);
    await carol.click('#join-form button[type="submit"]');
    await errorLine(carol).filter({ hasText: 'not_found: room not found' }).waitFor();
    expect(await carol.locator('#room-list .thread-button').allTextContents()).toEqual(['#general']);
    expect(await message(carol, 'bob here').count()).toBe(0);

    // bob's second page (same profile, so it remembers the room by id): the title comes from listRooms.
    const bob2 = await bobChat.context.newPage();
    await bob2.goto(chat.front.url);
    await bob2.waitForSelector('#connection[data-state="open"]');
    await roomEntry(bob2).waitFor();
    await roomEntry(bob2).click();
    await message(bob2, 'Welcome, bob').waitFor();

    // alice kicks bob: the room leaves both of his pages, each says why, and he lands in #general.
    await alice.fill('#manage-user', 'pr-bob');
    await alice.click('#manage-form button[data-admin="kick"]');
    for (const page of [bob, bob2]) {
      await errorLine(page)
        .filter({ hasText: `kicked: “${TITLE}”: you were removed from the room.` })
        .waitFor();
      expect(await roomEntry(page).count()).toBe(0);
      expect(await page.textContent('#thread-title')).toBe('#general');
    }
    await alice.locator('#people-list li[data-user-id="pr-bob"]').waitFor({ state: 'detached' });

    // He cannot come back by its id either.
    await bob.fill('#join-room', roomId);
    await bob.click('#join-form button[type="submit"]');
    await errorLine(bob).filter({ hasText: 'not_found: room not found' }).waitFor();
    expect(await roomEntry(bob).count()).toBe(0);
  });
});
