import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  attachmentFrameSchema,
  errorFrameSchema,
  roomMessageFrameSchema,
  uploadFrameSchema,
} from '#protocol/server-frames';
import { type Frame, type TestClient, useLocalStack } from '../helpers/local-stack.js';

/**
 * Attachments end to end on the local stack: requestUpload → a PUT to the presigned URL (the S3
 * stand-in checks its signature, size and type) → a message that carries the file → the other member
 * downloads it. Then the attacker's cases, each refused with a clear error and nothing stored.
 */

let clockOffsetMs = 0;
const local = useLocalStack({
  parameters: { AttachmentMaxBytes: '2048', AttachmentQuotaBytesPerDay: '5000' },
  s3Now: () => Date.now() + clockOffsetMs,
});

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 7)]);
const BUCKET = 'attachmentsbucket';

const stored = () => [...local.stack.s3.objects(BUCKET).keys()].sort();

async function attachmentRecords(): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await local.stack.dynamoDb.client.send(
    new ScanCommand({ TableName: local.stack.tableNames.AttachmentsTable }),
  );
  return Items.map((item) => unmarshall(item));
}

/** Sends a frame and waits for its reply, whatever it is (an upload, an attachment, an ack or an error). */
async function reply(client: TestClient, frame: Record<string, unknown>): Promise<Frame> {
  const before = client.frames.length;
  client.send(frame);
  return client.waitFor(
    (candidate) =>
      client.frames.indexOf(candidate) >= before &&
      ['upload', 'attachment', 'ack', 'error'].includes(String(candidate.type)),
  );
}

function expectError(frame: Frame, code: string, message?: RegExp) {
  const error = errorFrameSchema.parse(frame);
  expect(error.code, JSON.stringify(error)).toBe(code);
  if (message) expect(error.message).toMatch(message);
}

const put = (upload: { url: string; headers: Record<string, string> }, body: Buffer | string, type?: string) =>
  fetch(upload.url, {
    method: 'PUT',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: type === undefined ? upload.headers : { ...upload.headers, 'Content-Type': type },
  });

async function s3Error(response: Response) {
  const text = await response.text();
  return {
    status: response.status,
    code: /<Code>([^<]*)</.exec(text)?.[1],
    message: /<Message>([^<]*)</.exec(text)?.[1],
  };
}

describe('attachments', () => {
  it('an image uploaded through a presigned URL reaches the other member, who can download it', async () => {
    const alice = await local.join({ userId: 'alice', room: 'pics' });
    const bob = await local.join({ userId: 'bob', room: 'pics' });

    const upload = uploadFrameSchema.parse(
      await reply(alice, {
        action: 'requestUpload',
        room: 'pics',
        fileName: 'cat.png',
        contentType: 'image/png',
        size: PNG.length,
      }),
    );
    expect(upload.headers).toEqual({ 'Content-Type': 'image/png' });
    expect((await put(upload, PNG)).status).toBe(200);

    const ack = await reply(alice, {
      action: 'sendMessage',
      room: 'pics',
      message: 'look',
      attachments: [upload.attachmentId],
    });
    expect(ack.type, JSON.stringify(ack)).toBe('ack');
    const received = roomMessageFrameSchema.parse(
      await bob.waitFor((frame) => frame.type === 'message' && frame.message === 'look'),
    );
    const ref = { attachmentId: upload.attachmentId, fileName: 'cat.png', contentType: 'image/png', size: PNG.length };
    expect(received.attachments).toEqual([ref]);

    const link = attachmentFrameSchema.parse(
      await reply(bob, { action: 'getAttachment', attachmentId: upload.attachmentId }),
    );
    const download = await fetch(link.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''cat.png");
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PNG);

    // The server's copy is what members get; history carries the file too, and REST presigns it as well.
    expect(stored()).toEqual([`attachments/${upload.attachmentId}`, `uploads/${upload.attachmentId}`]);
    const history = await local.rest('/rooms/pics/messages', 'bob');
    expect((history.body.messages as Frame[])[0]?.attachments).toEqual([ref]);
    const overRest = await local.rest(`/attachments/${upload.attachmentId}`, 'bob');
    expect(overRest.status).toBe(200);
    expect(attachmentFrameSchema.parse(overRest.body).fileName).toBe('cat.png');
  });

  it('a direct message carries a file its recipient can download', async () => {
    const carol = await local.join({ userId: 'carol' });
    const dave = await local.join({ userId: 'dave' });
    // The conversation exists once the first message made it.
    const first = await reply(carol, { action: 'sendMessage', recipientId: 'dave', content: 'hi' });
    const conversationId = String(first.conversationId);
    const upload = uploadFrameSchema.parse(
      await reply(carol, {
        action: 'requestUpload',
        conversationId,
        fileName: 'notes.txt',
        contentType: 'text/plain',
        size: 5,
      }),
    );
    expect((await put(upload, 'hello')).status).toBe(200);
    await reply(carol, {
      action: 'sendMessage',
      recipientId: 'dave',
      conversationId,
      content: 'the notes',
      attachments: [upload.attachmentId],
    });
    const received = await dave.waitFor(
      (frame) => frame.type === 'message' && (frame.data as Frame | undefined)?.content === 'the notes',
    );
    expect((received.data as Frame).attachments).toEqual([
      { attachmentId: upload.attachmentId, fileName: 'notes.txt', contentType: 'text/plain', size: 5 },
    ]);
    const link = attachmentFrameSchema.parse(
      await reply(dave, { action: 'getAttachment', attachmentId: upload.attachmentId }),
    );
    expect(await (await fetch(link.url)).text()).toBe('hello');
  });
});

describe('attachments: the attacker', () => {
  it('a non-member can neither ask for an upload nor download a file', async () => {
    const owner = await local.join({ userId: 'erin', room: 'vault' });
    const mallory = await local.join({ userId: 'mallory', room: 'street' });
    const before = { objects: stored(), records: (await attachmentRecords()).length };

    expectError(
      await reply(mallory, {
        action: 'requestUpload',
        room: 'vault',
        fileName: 'x.png',
        contentType: 'image/png',
        size: 10,
      }),
      'forbidden',
      /not a member of that room/,
    );
    expect({ objects: stored(), records: (await attachmentRecords()).length }).toEqual(before);

    const upload = uploadFrameSchema.parse(
      await reply(owner, {
        action: 'requestUpload',
        room: 'vault',
        fileName: 'plan.pdf',
        contentType: 'application/pdf',
        size: 4,
      }),
    );
    expect((await put(upload, '%PDF')).status).toBe(200);
    await reply(owner, { action: 'sendMessage', room: 'vault', message: 'plan', attachments: [upload.attachmentId] });
    expectError(await reply(mallory, { action: 'getAttachment', attachmentId: upload.attachmentId }), 'forbidden');
    expect((await local.rest(`/attachments/${upload.attachmentId}`, 'mallory')).status).toBe(403);
    // And nobody downloads a file that was never attached to a message.
    expectError(await reply(mallory, { action: 'getAttachment', attachmentId: 'no-such-file' }), 'not_found');
  });

  it('refuses a file over the limit or of a type not allowed, before any URL exists', async () => {
    const alice = await local.join({ userId: 'frank', room: 'pics' });
    const before = { objects: stored(), records: (await attachmentRecords()).length };
    expectError(
      await reply(alice, {
        action: 'requestUpload',
        room: 'pics',
        fileName: 'big.png',
        contentType: 'image/png',
        size: 4096,
      }),
      'payload_too_large',
      /limit is 2048/,
    );
    expectError(
      await reply(alice, {
        action: 'requestUpload',
        room: 'pics',
        fileName: 'page.html',
        contentType: 'text/html',
        size: 10,
      }),
      'unsupported_type',
    );
    expect({ objects: stored(), records: (await attachmentRecords()).length }).toEqual(before);
  });

  it('S3 refuses an upload larger than, or of another type than, the one asked for; a tampered or expired URL', async () => {
    const alice = await local.join({ userId: 'grace', room: 'pics' });
    const upload = uploadFrameSchema.parse(
      await reply(alice, {
        action: 'requestUpload',
        room: 'pics',
        fileName: 'a.png',
        contentType: 'image/png',
        size: 10,
      }),
    );
    const key = `uploads/${upload.attachmentId}`;
    expect(await s3Error(await put(upload, Buffer.alloc(2000)))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    expect(await s3Error(await put(upload, Buffer.alloc(10), 'text/html'))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    const tampered = { ...upload, url: upload.url.replace(upload.attachmentId, 'someone-elses-file') };
    expect(await s3Error(await put(tampered, Buffer.alloc(10)))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    clockOffsetMs = 10 * 60 * 1000;
    try {
      expect(await s3Error(await put(upload, Buffer.alloc(10)))).toEqual({
        status: 403,
        code: 'AccessDenied',
        message: 'Request has expired',
      });
    } finally {
      clockOffsetMs = 0;
    }
    expect(stored()).not.toContain(key);
    expect(stored().some((stored) => stored.includes('someone-elses-file'))).toBe(false);

    // A file never uploaded cannot go on a message.
    expectError(
      await reply(alice, {
        action: 'sendMessage',
        room: 'pics',
        message: 'nothing',
        attachments: [upload.attachmentId],
      }),
      'not_uploaded',
    );
  });

  it("refuses someone else's attachment, or one from another room, on a message, and stores no message", async () => {
    const alice = await local.join({ userId: 'heidi', room: 'pics' });
    const bob = await local.join({ userId: 'ivan', room: 'pics' });
    await bob.request({ action: 'joinRoom', room: 'other' }, 'joined');
    const upload = uploadFrameSchema.parse(
      await reply(alice, {
        action: 'requestUpload',
        room: 'pics',
        fileName: 'mine.png',
        contentType: 'image/png',
        size: 3,
      }),
    );
    expect((await put(upload, 'abc')).status).toBe(200);

    expectError(
      await reply(bob, {
        action: 'sendMessage',
        room: 'pics',
        message: 'stolen',
        messageId: 'steal-1',
        attachments: [upload.attachmentId],
      }),
      'forbidden',
      /not one of your uploads/,
    );
    const ownUpload = uploadFrameSchema.parse(
      await reply(bob, { action: 'requestUpload', room: 'pics', fileName: 'b.png', contentType: 'image/png', size: 3 }),
    );
    expect((await put(ownUpload, 'xyz')).status).toBe(200);
    expectError(
      await reply(bob, {
        action: 'sendMessage',
        room: 'other',
        message: 'moved',
        messageId: 'steal-2',
        attachments: [ownUpload.attachmentId],
      }),
      'validation_failed',
    );
    const history = await local.rest('/users/ivan/messages');
    expect((history.body.messages as Frame[]).map((message) => message.messageId)).toEqual([]);
    expect(stored()).not.toContain(`attachments/${upload.attachmentId}`);
    expect(stored()).not.toContain(`attachments/${ownUpload.attachmentId}`);
  });

  it("refuses an upload past the user's daily allowance", async () => {
    const hoarder = await local.join({ userId: 'judy', room: 'pics' });
    const ask = () =>
      reply(hoarder, {
        action: 'requestUpload',
        room: 'pics',
        fileName: 'h.png',
        contentType: 'image/png',
        size: 2000,
      });
    expect((await ask()).type).toBe('upload');
    expect((await ask()).type).toBe('upload');
    const records = (await attachmentRecords()).length;
    expectError(await ask(), 'quota_exceeded');
    expect((await attachmentRecords()).length).toBe(records);
  });
});
