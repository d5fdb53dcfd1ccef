import { describe, expect, it } from 'vitest';
import type { AttachmentRecord } from '#core/domain/attachment';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  NotUploadedError,
  PayloadTooLargeError,
  QuotaExceededError,
  UnsupportedTypeError,
  ValidationError,
} from '#core/domain/errors';
import type { AttachmentStore, ObjectStorage } from '#core/ports';
import { type AttachmentDeps, attachToMessage, getAttachment, requestUpload } from '#core/use-cases/attachments';
import { connection, fakeConnections, fakeRooms, fakeSubscriptions } from '../../../../helpers/fakes.js';

const alice = { userId: 'alice', userName: 'Alice' };
const bob = { userId: 'bob', userName: 'Bob' };

/** Records in memory, with the same quota rule as the table's conditional counter. */
function fakeAttachments(): AttachmentStore & { records: Map<string, AttachmentRecord>; used: Map<string, number> } {
  const records = new Map<string, AttachmentRecord>();
  const used = new Map<string, number>();
  return {
    records,
    used,
    async create(record, quota) {
      const key = `${record.ownerId}#${quota.day}`;
      const total = (used.get(key) ?? 0) + record.size;
      if (total > quota.limitBytes) throw new QuotaExceededError('used up');
      used.set(key, total);
      records.set(record.attachmentId, record);
    },
    async get(attachmentId) {
      return records.get(attachmentId);
    },
    async markAttached(attachmentId, messageId, expiresAt) {
      const record = records.get(attachmentId);
      if (!record || (record.status === 'attached' && record.messageId !== messageId)) return false;
      records.set(attachmentId, { ...record, status: 'attached', messageId, expiresAt });
      return true;
    },
  };
}

function fakeStorage(): ObjectStorage & { objects: Set<string>; presigned: string[] } {
  const objects = new Set<string>();
  const presigned: string[] = [];
  return {
    objects,
    presigned,
    async presignUpload(key, file) {
      presigned.push(key);
      return {
        url: `https://s3/${key}`,
        method: 'PUT',
        headers: { 'Content-Type': file.contentType },
        expiresAt: 'soon',
      };
    },
    async presignDownload(key) {
      return { url: `https://s3/${key}?get`, expiresAt: 'soon' };
    },
    async copy(from, to) {
      if (!objects.has(from)) return false;
      objects.add(to);
      return true;
    },
  };
}

function deps(): AttachmentDeps & {
  attachments: ReturnType<typeof fakeAttachments>;
  storage: ReturnType<typeof fakeStorage>;
} {
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  return {
    connections: fakeConnections([connection('c-alice', 'alice'), connection('c-bob', 'bob')]),
    rooms: fakeRooms(),
    subscriptions: fakeSubscriptions([
      { topic: 'room#pics', connectionId: 'c-alice', userId: 'alice', userName: 'Alice', expiresAt },
      { topic: 'room#pics', connectionId: 'c-bob', userId: 'bob', userName: 'Bob', expiresAt },
    ]),
    conversations: { participants: async (id) => (id === 'ab' ? ['alice', 'bob'] : undefined) },
    attachments: fakeAttachments(),
    storage: fakeStorage(),
    limits: { maxBytes: 1000, allowedTypes: ['image/png'], quotaBytesPerDay: 1000 },
  };
}

const file = { fileName: 'cat.png', contentType: 'image/png', size: 600 };

describe('requestUpload', () => {
  it('records a pending attachment for a member and presigns its staging key', async () => {
    const d = deps();
    const frame = await requestUpload({ identity: alice, place: { room: 'pics' }, ...file }, d);
    expect(frame).toMatchObject({ type: 'upload', method: 'PUT', url: `https://s3/uploads/${frame.attachmentId}` });
    expect(d.attachments.records.get(frame.attachmentId)).toMatchObject({
      ownerId: 'alice',
      place: 'pics',
      status: 'pending',
    });
    const dm = await requestUpload({ identity: bob, place: { conversationId: 'ab' }, ...file }, d);
    expect(d.attachments.records.get(dm.attachmentId)?.place).toBe('dm#ab');
  });

  it('refuses other types, bigger files, non-members and a spent allowance, recording nothing', async () => {
    const d = deps();
    const ask = (overrides: object, identity = alice, place: object = { room: 'pics' }) =>
      requestUpload({ identity, place: place as { room: string }, ...file, ...overrides }, d);
    await expect(ask({ contentType: 'text/html' })).rejects.toBeInstanceOf(UnsupportedTypeError);
    await expect(ask({ size: 1001 })).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(ask({}, { userId: 'mallory', userName: 'M' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(ask({}, { userId: 'mallory', userName: 'M' }, { conversationId: 'ab' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    expect(d.attachments.records.size).toBe(0);
    await ask({});
    await expect(ask({})).rejects.toBeInstanceOf(QuotaExceededError);
    expect(d.attachments.records.size).toBe(1);
    expect(d.storage.presigned).toHaveLength(1);
  });
});

describe('attachToMessage and getAttachment', () => {
  async function uploaded(d: ReturnType<typeof deps>, identity = alice, place: object = { room: 'pics' }) {
    const { attachmentId } = await requestUpload({ identity, place: place as { room: string }, ...file }, d);
    d.storage.objects.add(`uploads/${attachmentId}`);
    return attachmentId;
  }
  const attach = (d: ReturnType<typeof deps>, ids: string[], messageId = 'm1', identity = alice, place = 'pics') =>
    attachToMessage({ identity, place, attachmentIds: ids, messageId, expiresAt: 99 }, d);

  it('copies the sender’s upload out of staging, and a member gets a download URL', async () => {
    const d = deps();
    const id = await uploaded(d);
    expect(await attach(d, [id, id])).toEqual([{ attachmentId: id, ...file }]);
    expect(d.storage.objects.has(`attachments/${id}`)).toBe(true);
    // The same message again (a retried send) goes through; another message may not take it.
    expect(await attach(d, [id])).toHaveLength(1);
    await expect(attach(d, [id], 'm2')).rejects.toBeInstanceOf(ConflictError);
    const frame = await getAttachment({ identity: bob, attachmentId: id }, d);
    expect(frame).toMatchObject({ type: 'attachment', url: `https://s3/attachments/${id}?get`, fileName: 'cat.png' });
    await expect(
      getAttachment({ identity: { userId: 'mallory', userName: 'M' }, attachmentId: id }, d),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("refuses someone else's upload, another place's, one never uploaded, and unattached downloads", async () => {
    const d = deps();
    const id = await uploaded(d);
    await expect(attach(d, [id], 'm1', bob)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(attach(d, [id], 'm1', alice, 'elsewhere')).rejects.toBeInstanceOf(ValidationError);
    await expect(getAttachment({ identity: alice, attachmentId: id }, d)).rejects.toBeInstanceOf(NotFoundError);
    const { attachmentId: never } = await requestUpload(
      { identity: alice, place: { room: 'pics' }, ...file, size: 1 },
      d,
    );
    await expect(attach(d, [never])).rejects.toBeInstanceOf(NotUploadedError);
    expect([...d.storage.objects].filter((key) => key.startsWith('attachments/'))).toEqual([]);
  });
});
