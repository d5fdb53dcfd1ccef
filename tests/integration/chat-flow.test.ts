import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ackFrameSchema,
  errorFrameSchema,
  roomMessageFrameSchema,
  roomReadFrameSchema,
  typingFrameSchema,
  welcomeFrameSchema,
} from '#protocol/server-frames';
import { type Frame, TestClient, useLocalStack } from '../helpers/local-stack.js';

const local = useLocalStack({ parameters: { RateLimitPerSecond: '1000', RateLimitBurst: '1000' } });

const isTyping = (frame: Frame) => frame.type === 'typing';

describe('typing indicators', () => {
  it('reach the other members of a room, with a name and an expiry, and not the sender', async () => {
    const alice = await local.join({ userId: 'ty-alice', userName: 'Alice', room: 'ty-room' });
    const bob = await local.join({ userId: 'ty-bob', room: 'ty-room' });
    const bobOnPhone = await local.join({ userId: 'ty-bob', room: 'ty-room' });

    alice.send({ action: 'typing', room: 'ty-room' });
    for (const device of [bob, bobOnPhone]) {
      const frame = typingFrameSchema.parse(await device.waitFor(isTyping));
      expect(frame).toEqual({
        type: 'typing',
        room: 'ty-room',
        userId: 'ty-alice',
        userName: 'Alice',
        expiresInMs: 5000,
      });
    }
    await local.stack.idle();
    expect(alice.frames.filter(isTyping)).toEqual([]);
    // Nothing answers a typing frame: no ack, no error.
    expect(alice.frames.filter((frame) => frame.type === 'ack' || frame.type === 'error')).toEqual([]);
  });

  it('reach the other participant of a direct conversation', async () => {
    const alice = await local.join({ userId: 'tyd-alice', room: 'tyd-a' });
    const bob = await local.join({ userId: 'tyd-bob', room: 'tyd-b' });
    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', recipientId: 'tyd-bob', content: 'hi' }),
    );
    const conversationId = String(ack.conversationId);

    bob.send({ action: 'typing', conversationId });
    const frame = typingFrameSchema.parse(await alice.waitFor(isTyping));
    expect(frame).toMatchObject({ conversationId, userId: 'tyd-bob' });
    expect(frame.room).toBeUndefined();
  });

  it('refuse a room the connection is not in and a conversation the user is not part of', async () => {
    const mallory = await local.join({ userId: 'ty-mallory', room: 'elsewhere' });
    const inRoom = errorFrameSchema.parse(await mallory.request({ action: 'typing', room: 'ty-room' }));
    expect(inRoom.code).toBe('forbidden');
    const inConversation = errorFrameSchema.parse(
      await mallory.request({ action: 'typing', conversationId: 'not-mine' }),
    );
    expect(inConversation.code).toBe('forbidden');
  });
});

describe('room read positions and unread counts', () => {
  it('count per user across devices: welcome, REST, markRead and the other device', async () => {
    const room = 'unread-room';
    const laptop = await local.join({ userId: 'ur-alice', room });
    const phone = await local.join({ userId: 'ur-alice', room });
    const bob = await local.join({ userId: 'ur-bob', room });
    const seqs: number[] = [];
    for (const text of ['one', 'two', 'three']) {
      const ack = ackFrameSchema.parse(await bob.request({ action: 'sendMessage', room, message: text }));
      seqs.push(Number(ack.seq));
    }
    expect(seqs).toEqual([1, 2, 3]);

    const tablet = welcomeFrameSchema.parse(
      (await local.join({ userId: 'ur-alice', room })).frames.find((frame) => frame.type === 'welcome'),
    );
    expect(tablet.unread).toEqual({ [room]: 3 });
    expect((await local.rest(`/rooms/${room}/unread`, 'ur-alice')).body).toEqual({
      room,
      unread: 3,
      readSeq: 0,
      latestSeq: 3,
    });
    // The sender has read their own messages.
    expect((await local.rest(`/rooms/${room}/unread`, 'ur-bob')).body).toMatchObject({ unread: 0, readSeq: 3 });

    const reply = roomReadFrameSchema.parse(await laptop.request({ action: 'markRead', room, upToSeq: 2 }, 'read'));
    expect(reply).toEqual({ type: 'read', room, readSeq: 2, unread: 1 });
    const onPhone = roomReadFrameSchema.parse(
      await phone.waitFor((frame) => frame.type === 'read' && frame.readSeq === 2),
    );
    expect(onPhone.unread).toBe(1);

    // By messageId, on the other device; a position never moves back.
    const messages = (await local.rest(`/rooms/${room}/messages?limit=10`, 'ur-alice')).body.messages as Frame[];
    const newest = roomMessageFrameSchema.parse(messages[0]);
    expect(newest.seq).toBe(3);
    const read = roomReadFrameSchema.parse(
      await phone.request({ action: 'markRead', room, upToMessageId: newest.messageId }, 'read'),
    );
    expect(read).toMatchObject({ readSeq: 3, unread: 0 });
    const back = roomReadFrameSchema.parse(await laptop.request({ action: 'markRead', room, upToSeq: 1 }, 'read'));
    expect(back).toMatchObject({ readSeq: 3, unread: 0 });

    const rooms = (await local.rest('/rooms', 'ur-alice')).body.rooms as Array<Record<string, unknown>>;
    expect(rooms.find((entry) => entry.room === room)).toMatchObject({ unread: 0 });
    const later = welcomeFrameSchema.parse(
      (await local.join({ userId: 'ur-alice', room })).frames.find((frame) => frame.type === 'welcome'),
    );
    expect(later.unread).toEqual({ [room]: 0 });
  });

  it('refuses markRead for a room the connection is not in', async () => {
    const mallory = await local.join({ userId: 'ur-mallory', room: 'elsewhere' });
    const error = errorFrameSchema.parse(
      await mallory.request({ action: 'markRead', room: 'unread-room', upToSeq: 3 }, 'error'),
    );
    expect(error.code).toBe('forbidden');
  });
});

describe('per-room sequence numbers', () => {
  it('are gapless and ordered under concurrent senders, and every receiver sees every seq once', async () => {
    const room = 'seq-room';
    const senders = await Promise.all([1, 2, 3, 4].map((n) => local.join({ userId: `seq-sender-${n}`, room })));
    const receivers = await Promise.all([1, 2].map((n) => local.join({ userId: `seq-reader-${n}`, room })));
    const perSender = 8;
    const acked = await Promise.all(
      senders.map(async (sender, s) => {
        const seqs: number[] = [];
        for (let i = 0; i < perSender; i++) {
          const ack = ackFrameSchema.parse(
            await sender.request({ action: 'sendMessage', room, message: `m${s}-${i}`, messageId: `seq-${s}-${i}` }),
          );
          seqs.push(Number(ack.seq));
        }
        return seqs;
      }),
    );
    const total = senders.length * perSender;
    const [first, second] = senders;
    if (!first || !second) throw new Error('no senders');
    // Each sender's own messages are numbered in the order it sent them…
    for (const seqs of acked) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // …and together they are exactly 1..total.
    expect(acked.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    for (const receiver of receivers) {
      await receiver.waitFor(() => new Set(receiver.messages(room).map((frame) => frame.seq)).size === total);
    }
    await local.stack.idle();
    for (const receiver of receivers) {
      const frames = receiver.messages(room).map((frame) => roomMessageFrameSchema.parse(frame));
      const bySeq = new Map<number, string>();
      for (const frame of frames) {
        const seq = Number(frame.seq);
        // A repeat (at-least-once) carries the same message; a seq never names two messages.
        expect(bySeq.get(seq) ?? frame.messageId).toBe(frame.messageId);
        bySeq.set(seq, frame.messageId);
      }
      expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(frames).toHaveLength(total);
    }

    // A retried send keeps its seq and takes no new one.
    const again = ackFrameSchema.parse(
      await first.request({ action: 'sendMessage', room, message: 'm0-0', messageId: 'seq-0-0' }),
    );
    expect(again).toMatchObject({ duplicate: true, seq: acked[0]?.[0] });
    const next = ackFrameSchema.parse(await second.request({ action: 'sendMessage', room, message: 'next' }));
    expect(next.seq).toBe(total + 1);

    // History carries seq too.
    const history = await first.request(
      { action: 'resume', room, lastTimestamp: new Date(Date.now() - 60_000).toISOString(), limit: 100 },
      'history',
    );
    const seqs = (history.messages as Frame[]).map((frame) => frame.seq);
    expect(new Set(seqs).size).toBe(total + 1);
  });
});

describe("seed 002's guest connection (demo auth)", () => {
  it('takes the user_id of its first message, shows the new name in presence, and refuses another', async () => {
    const bob = await local.join({ userId: 'guest-watcher', room: 'general' });
    const guest = local.track(await TestClient.join(local.stack, {}));
    const welcome = welcomeFrameSchema.parse(guest.frames.find((frame) => frame.type === 'welcome'));
    expect(welcome.user.userId).toMatch(/^guest-/);

    const ack = ackFrameSchema.parse(
      await guest.request({ action: 'sendMessage', room: 'general', user_id: 'seed-user-1', message: 'Hello!' }),
    );
    expect(ack.room).toBe('general');
    const received = roomMessageFrameSchema.parse(
      await bob.waitFor((frame) => frame.type === 'message' && frame.message === 'Hello!'),
    );
    expect(received).toMatchObject({ user_id: 'seed-user-1', userName: 'seed-user-1' });
    await bob.waitFor(
      (frame) => frame.type === 'presence' && frame.event === 'joined' && frame.userId === 'seed-user-1',
    );
    const presence = (await local.rest('/rooms/general/presence', 'guest-watcher')).body.online as Frame[];
    expect(presence.map((user) => user.userId)).toContain('seed-user-1');
    expect(presence.map((user) => user.userId)).not.toContain(welcome.user.userId);

    // The identity is now fixed: without user_id it is still seed-user-1, and another is refused.
    const plain = ackFrameSchema.parse(
      await guest.request({ action: 'sendMessage', room: 'general', message: 'again' }),
    );
    expect(plain.seq).toBeGreaterThan(Number(ack.seq));
    const again = await bob.waitFor((frame) => frame.type === 'message' && frame.message === 'again');
    expect(again.user_id).toBe('seed-user-1');
    const refused = errorFrameSchema.parse(
      await guest.request({ action: 'sendMessage', room: 'general', user_id: 'someone-else', message: 'x' }),
    );
    expect(refused.code).toBe('identity_mismatch');
  });

  it('lets only one of two racing frames name a guest connection', async () => {
    const guest = local.track(await TestClient.join(local.stack, {}));
    const before = guest.frames.length;
    guest.send({ action: 'sendMessage', room: 'general', user_id: 'racer-a', message: 'a' });
    guest.send({ action: 'sendMessage', room: 'general', user_id: 'racer-b', message: 'b' });
    await guest.waitFor(
      () => guest.frames.slice(before).filter((frame) => frame.type === 'ack' || frame.type === 'error').length === 2,
    );
    const replies = guest.frames.slice(before).filter((frame) => frame.type === 'ack' || frame.type === 'error');
    expect(replies.map((frame) => frame.type).sort()).toEqual(['ack', 'error']);
    expect(replies.find((frame) => frame.type === 'error')?.code).toBe('identity_mismatch');
  });

  it('never renames a connection that connected with a userId', async () => {
    const named = await local.join({ userId: 'named-user', room: 'general' });
    const refused = errorFrameSchema.parse(
      await named.request({ action: 'sendMessage', room: 'general', user_id: 'other-user', message: 'x' }),
    );
    expect(refused.code).toBe('identity_mismatch');
  });
});

/**
 * A Python with the `websocket-client` package: SEED_PYTHON, else the venv .ci/run makes
 * (.venv/test-python), else the machine's python3 if it has the package. In CI (CI=true, or
 * SEED_PYTHON given) a missing one fails the test instead of skipping it.
 */
function pythonWithWebsocketClient(): string | undefined {
  const given = process.env.SEED_PYTHON;
  const candidates = (given ? [given] : ['.venv/test-python/bin/python', 'python3']).filter(
    (candidate): candidate is string => !!candidate && (!candidate.includes('/') || existsSync(candidate)),
  );
  return candidates.find((python) => spawnSync(python, ['-c', 'import websocket'], { stdio: 'ignore' }).status === 0);
}

const python = pythonWithWebsocketClient();
const SEED_SCRIPT = new URL('../fixtures/seed-002-websocket-chat.py', import.meta.url);
const FIXTURE_ENDPOINT = 'ws://127.0.0.1:3001';

describe("seed 002's Python script, as written", () => {
  it.skipIf(!python && process.env.CI !== 'true' && !process.env.SEED_PYTHON)(
    'connects with no identity, sends as test-user-1, and another client receives "Hello from Python!"',
    async () => {
      expect(
        python,
        'no Python with websocket-client (pip install websocket-client, or set SEED_PYTHON)',
      ).toBeDefined();
      const watcher = await local.join({ userId: 'seed-002-watcher', room: 'general' });
      // The fixture is the seed's script verbatim but for its endpoint line; point it at this stack.
      const source = readFileSync(SEED_SCRIPT, 'utf8');
      expect(source.split(FIXTURE_ENDPOINT)).toHaveLength(2);
      const script = join(mkdtempSync(join(tmpdir(), 'seed-002-')), 'seed-002.py');
      writeFileSync(script, source.replace(FIXTURE_ENDPOINT, local.stack.urls.webSocket));

      const child = spawn(String(python), ['-u', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      try {
        const received = roomMessageFrameSchema.parse(
          await watcher.waitFor((frame) => frame.type === 'message' && frame.message === 'Hello from Python!', 30_000),
        );
        expect(received).toMatchObject({ room: 'general', user_id: 'test-user-1', userName: 'test-user-1' });
        await watcher.waitFor(
          (frame) => frame.type === 'presence' && frame.event === 'joined' && frame.userId === 'test-user-1',
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}\nscript output:\n${output}`);
      } finally {
        // run_forever() never returns on its own.
        child.kill();
      }
      expect(output).toContain('Connected!');
      expect(output).toContain("Sent: {'action': 'sendMessage'");
      expect(output).not.toContain('Error:');
    },
  );
});
