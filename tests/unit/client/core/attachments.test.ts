import { describe, expect, it, vi } from 'vitest';
import { type AttachmentChat, AttachmentError, Attachments, type HttpPut } from '#client-core/attachments';
import type { ChatEvent, ChatSnapshot } from '#client-core/chat-types';
import type { ClientFrame } from '#protocol/client-frames';
import type { ServerFrame } from '#protocol/server-frames';

/** The chat client's surface the attachments use: frames sent are recorded, frames received are pushed. */
function fakeChat(thread: { kind: 'room' | 'dm'; name: string; conversationId?: string } | undefined) {
  const sent: ClientFrame[] = [];
  const listeners = new Set<(event: ChatEvent) => void>();
  let connected = true;
  const chat: AttachmentChat = {
    sendFrame(frame) {
      if (connected) sent.push(frame);
      return connected;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot: () => ({ activeThread: thread }) as unknown as ChatSnapshot,
  };
  return {
    chat,
    sent,
    receive(frame: ServerFrame) {
      for (const listener of [...listeners]) listener({ type: 'frame', frame, text: JSON.stringify(frame) });
    },
    drop() {
      for (const listener of [...listeners]) listener({ type: 'connection', state: { state: 'offline' } });
    },
    disconnect() {
      connected = false;
    },
  };
}

const file = { name: 'cat.png', type: 'image/png', size: 3, body: new Uint8Array([1, 2, 3]) };
const upload = (attachmentId: string): ServerFrame => ({
  type: 'upload',
  attachmentId,
  url: `https://s3/uploads/${attachmentId}?sig`,
  method: 'PUT',
  headers: { 'Content-Type': 'image/png' },
  expiresAt: '2026-03-01T12:05:00.000Z',
});
/** Lets the awaited PUT and the next request run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('Attachments', () => {
  it('asks for an upload URL, PUTs the bytes with its headers, then sends the message naming the file', async () => {
    const { chat, sent, receive } = fakeChat({ kind: 'room', name: 'pics' });
    const put = vi.fn<HttpPut>(async () => ({ ok: true, status: 200, text: async () => '' }));
    const attachments = new Attachments(chat, { put, attachment: vi.fn(), newMessageId: () => 'm1' });
    const done = attachments.sendFile(file, 'look');
    await settle();
    expect(sent).toEqual([
      { action: 'requestUpload', room: 'pics', fileName: 'cat.png', contentType: 'image/png', size: 3 },
    ]);
    receive(upload('a1'));
    await settle();
    expect(put).toHaveBeenCalledWith('https://s3/uploads/a1?sig', {
      method: 'PUT',
      headers: { 'Content-Type': 'image/png' },
      body: file.body,
    });
    expect(sent[1]).toEqual({
      action: 'sendMessage',
      room: 'pics',
      message: 'look',
      messageId: 'm1',
      attachments: ['a1'],
    });
    receive({ type: 'ack', messageId: 'm1', room: 'pics', timestamp: 'now' });
    await expect(done).resolves.toEqual({ attachmentId: 'a1', messageId: 'm1' });
  });

  it('sends to a conversation by its id, and reports the server’s and S3’s refusals', async () => {
    const { chat, sent, receive } = fakeChat({ kind: 'dm', name: 'bob', conversationId: 'c1' });
    const put = vi.fn<HttpPut>(async () => ({
      ok: false,
      status: 403,
      text: async () => '<Error><Code>SignatureDoesNotMatch</Code></Error>',
    }));
    const attachments = new Attachments(chat, { put, attachment: vi.fn(), newMessageId: () => 'm1' });
    const refused = attachments.sendFile({ ...file, type: 'text/html' });
    await settle();
    expect(sent[0]).toMatchObject({ action: 'requestUpload', conversationId: 'c1' });
    receive({ type: 'error', code: 'unsupported_type', message: 'text/html files are not accepted' });
    await expect(refused).rejects.toMatchObject({ code: 'unsupported_type' });

    const failedPut = attachments.sendFile(file);
    await settle();
    receive(upload('a2'));
    await expect(failedPut).rejects.toMatchObject({
      code: 'upload_refused',
      message: expect.stringContaining('SignatureDoesNotMatch'),
    });
    expect(sent.filter((frame) => frame.action === 'sendMessage')).toEqual([]);
  });

  it('refuses without a thread, in a conversation not yet started, and offline', async () => {
    const attachments = (thread: Parameters<typeof fakeChat>[0], offline = false) => {
      const fake = fakeChat(thread);
      if (offline) fake.disconnect();
      return new Attachments(fake.chat, { put: vi.fn(), attachment: vi.fn(), newMessageId: () => 'm' });
    };
    await expect(attachments(undefined).sendFile(file)).rejects.toBeInstanceOf(AttachmentError);
    await expect(attachments({ kind: 'dm', name: 'bob' }).sendFile(file)).rejects.toMatchObject({
      code: 'no_conversation',
    });
    await expect(attachments({ kind: 'room', name: 'pics' }, true).sendFile(file)).rejects.toMatchObject({
      code: 'offline',
    });
  });

  it('gives up on a reply lost with the connection, and the next file still goes', async () => {
    const { chat, sent, receive, drop } = fakeChat({ kind: 'room', name: 'pics' });
    const put = vi.fn<HttpPut>(async () => ({ ok: true, status: 200, text: async () => '' }));
    const attachments = new Attachments(chat, { put, attachment: vi.fn(), newMessageId: () => 'm2' });
    const lost = attachments.sendFile(file);
    await settle();
    drop();
    await expect(lost).rejects.toMatchObject({ code: 'offline' });
    const next = attachments.sendFile(file);
    await settle();
    expect(sent.filter((frame) => frame.action === 'requestUpload')).toHaveLength(2);
    receive(upload('a3'));
    await settle();
    receive({ type: 'ack', messageId: 'm2', timestamp: 'now' });
    await expect(next).resolves.toEqual({ attachmentId: 'a3', messageId: 'm2' });
  });

  it('reuses a download URL until a minute before it expires', async () => {
    let now = Date.parse('2026-03-01T12:00:00.000Z');
    const attachment = vi.fn(async (attachmentId: string) => ({
      type: 'attachment' as const,
      attachmentId,
      fileName: 'cat.png',
      contentType: 'image/png',
      size: 3,
      url: `https://s3/attachments/${attachmentId}?at=${now}`,
      expiresAt: new Date(now + 300_000).toISOString(),
    }));
    const attachments = new Attachments(fakeChat(undefined).chat, {
      put: vi.fn(),
      attachment,
      newMessageId: () => 'm',
      now: () => now,
    });
    const first = await attachments.downloadUrl('a1');
    now += 200_000;
    expect(await attachments.downloadUrl('a1')).toBe(first);
    now += 60_000;
    expect(await attachments.downloadUrl('a1')).not.toBe(first);
    expect(attachment).toHaveBeenCalledTimes(2);
  });
});
