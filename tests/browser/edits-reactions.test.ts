import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowserChat } from '../helpers/browser-chat.js';

const chat = useBrowserChat();

/** A fresh browser profile signed in with a demo name, in `room`. */
async function openChat(name: string, room: string): Promise<Page> {
  const { page } = await chat.openChat(name);
  await page.fill('#join-room', room);
  await page.click('#join-form button[type="submit"]');
  await page.waitForFunction((title) => document.getElementById('thread-title')?.textContent === title, `#${room}`);
  return page;
}

const message = (page: Page, text: string) => page.locator('#messages > li', { hasText: text });

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
