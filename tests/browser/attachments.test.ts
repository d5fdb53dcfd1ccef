import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowserChat } from '../helpers/browser-chat.js';

/** A 1×1 PNG, so the preview really decodes. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

// The page's Content-Security-Policy must allow the S3 endpoint presigned URLs point at.
const chat = useBrowserChat((stack) => ({ attachmentsUrl: stack.urls.s3 }));

const openChat = async (name: string): Promise<Page> => (await chat.openChat(name)).page;

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
    expect(chat.pageErrors).toEqual([]);
  });
});
