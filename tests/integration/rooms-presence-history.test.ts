import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import { topics } from '#core/domain/room';
import { connectionExpiry } from '#core/domain/time';
import { createConnectionStore } from '#db/connections-store';
import { createSubscriptionStore } from '#db/subscriptions-store';
import {
  ackFrameSchema,
  joinedFrameSchema,
  ONLINE_LIST_LIMIT,
  presenceFrameSchema,
  roomMessageFrameSchema,
  roomsFrameSchema,
  welcomeFrameSchema,
} from '#protocol/server-frames';
import { type Frame, TestClient, useLocalStack } from '../helpers/local-stack.js';

const local = useLocalStack({ parameters: { RateLimitPerSecond: '1000', RateLimitBurst: '1000' } });

const join = (query: Record<string, string>) => local.join(query);

async function rest(path: string, userId = 'reader') {
  const response = await fetch(`${local.stack.urls.rest}${path}`, { headers: { 'x-user-id': userId } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const presence = (event: string, room: string, userId: string) => (frame: Frame) =>
  frame.type === 'presence' && frame.event === event && frame.room === room && frame.userId === userId;

describe('rooms', () => {
  it('delivers to exactly the connections of each room, including one that is in both', async () => {
    const red = await join({ userId: 'r1', room: 'red' });
    const blue = await join({ userId: 'b1', room: 'blue' });
    const blue2 = await join({ userId: 'b2', room: 'blue' });
    const both = await join({ userId: 'both', room: 'red,blue' });
    const toRed = ackFrameSchema.parse(await red.request({ action: 'sendMessage', room: 'red', message: 'red only' }));
    const toBlue = ackFrameSchema.parse(
      await blue.request({ action: 'sendMessage', room: 'blue', message: 'blue only' }),
    );
    await both.waitFor((f) => f.messageId === toRed.messageId);
    await both.waitFor((f) => f.messageId === toBlue.messageId);
    await blue2.waitFor((f) => f.messageId === toBlue.messageId);
    await red.waitFor((f) => f.type === 'message' && f.messageId === toRed.messageId);
    await local.stack.idle();
    expect(red.messages().map((f) => f.messageId)).toEqual([toRed.messageId]);
    expect(blue2.messages().map((f) => f.messageId)).toEqual([toBlue.messageId]);
    expect(
      both
        .messages()
        .map((f) => f.messageId)
        .sort(),
    ).toEqual([toRed.messageId, toBlue.messageId].sort());
  });

  it("joins and leaves rooms with actions, and lists the user's rooms with member counts", async () => {
    const walker = await join({ userId: 'walker', room: 'hall' });
    await join({ userId: 'sitter', room: 'kitchen' });
    const joined = await walker.request({ action: 'joinRoom', room: 'kitchen' }, 'joined');
    expect(joined.online).toEqual(
      expect.arrayContaining([
        { userId: 'sitter', userName: 'sitter' },
        { userId: 'walker', userName: 'walker' },
      ]),
    );
    const rooms = roomsFrameSchema.parse(await walker.request({ action: 'listRooms' }, 'rooms'));
    expect(rooms.rooms).toEqual([
      { room: 'hall', members: 1 },
      { room: 'kitchen', members: 2 },
    ]);
    const overRest = await rest('/rooms', 'walker');
    // REST adds each room's unread count for the caller (nothing posted yet).
    expect(overRest.body.rooms).toEqual(rooms.rooms.map((entry) => ({ ...entry, unread: 0 })));

    await walker.request({ action: 'leaveRoom', room: 'kitchen' }, 'left');
    const sent = ackFrameSchema.parse(
      await (await join({ userId: 'cook', room: 'kitchen' })).request({
        action: 'sendMessage',
        room: 'kitchen',
        message: 'dinner',
      }),
    );
    await local.stack.idle();
    expect(walker.messages().some((f) => f.messageId === sent.messageId)).toBe(false);
  });

  it.each([
    ['too long', 'x'.repeat(65)],
    ['bad characters', 'room with spaces'],
    ['an internal prefix', 'dm#secret'],
  ])('refuses a room name with %s, clearly', async (_name, room) => {
    const client = await join({ userId: 'namer', room: 'general' });
    const reply = await client.request({ action: 'joinRoom', room }, 'error');
    expect(reply).toMatchObject({ code: 'validation_failed' });
    expect(JSON.stringify(reply.issues)).toMatch(/room/);
  });

  it('refuses a connect URL naming an invalid room', async () => {
    await expect(TestClient.connect(local.stack, { userId: 'x', room: 'no way!' })).rejects.toThrow(/400/);
  });
});

describe('presence', () => {
  it('tells the room about joined, left, online and offline, for an orderly and an abrupt goodbye', async () => {
    const watcher = await join({ userId: 'watcher', room: 'porch' });
    const visitor = await join({ userId: 'visitor', room: 'porch' });
    presenceFrameSchema.parse(await watcher.waitFor(presence('joined', 'porch', 'visitor')));
    await watcher.waitFor(presence('online', 'porch', 'visitor'));

    await visitor.request({ action: 'leaveRoom', room: 'porch' }, 'left');
    await watcher.waitFor(presence('left', 'porch', 'visitor'));
    await visitor.request({ action: 'joinRoom', room: 'porch' }, 'joined');
    await visitor.close();
    await watcher.waitFor(presence('offline', 'porch', 'visitor'));

    const dropper = await join({ userId: 'dropper', room: 'porch' });
    await watcher.waitFor(presence('online', 'porch', 'dropper'));
    dropper.socket.terminate(); // no close frame: the gateway still runs $disconnect, as API Gateway does
    await watcher.waitFor(presence('offline', 'porch', 'dropper'));
    const { body } = await rest('/rooms/porch/presence');
    expect(body.online).toEqual([{ userId: 'watcher', userName: 'watcher' }]);
  });

  it('keeps a user online while another of their connections lives', async () => {
    const watcher = await join({ userId: 'watcher2', room: 'deck' });
    const phone = await join({ userId: 'twice', room: 'deck' });
    await join({ userId: 'twice', room: 'deck' });
    await phone.close();
    await watcher.waitFor(presence('left', 'deck', 'twice'));
    await local.stack.idle();
    expect(watcher.frames.some(presence('offline', 'deck', 'twice'))).toBe(false);
    const { body } = await rest('/rooms/deck/presence');
    expect(body.online).toEqual(expect.arrayContaining([{ userId: 'twice', userName: 'twice' }]));
  });
});

describe('online lists in big rooms', () => {
  /** Plants `count` users in a room (the first with two connections) for one test, without opening sockets. */
  async function plantCrowd(room: string, count: number): Promise<void> {
    const client = DynamoDBDocumentClient.from(local.stack.dynamoDb.client);
    const connections = createConnectionStore(client, local.stack.tableNames.ConnectionsTable ?? '');
    const subscriptions = createSubscriptionStore(client, local.stack.tableNames.SubscriptionsTable ?? '');
    const connectedAt = Date.now();
    const expiresAt = connectionExpiry(connectedAt);
    const planted = Array.from({ length: count + 1 }, (_, index) => {
      const userId = `crowd-${String(Math.max(0, index - 1)).padStart(3, '0')}`;
      return { connectionId: `Crowd${index}=`, userId, userName: userId, connectedAt, expiresAt };
    });
    const inChunks = async (each: (record: (typeof planted)[number]) => Promise<unknown>) => {
      for (let start = 0; start < planted.length; start += 25) {
        await Promise.all(planted.slice(start, start + 25).map(each));
      }
    };
    // Connection records make the fan-out's 410s from these sockets-that-never-were look like
    // connections still opening (for 30 s), so they are not dropped and announced offline mid-test.
    await inChunks((record) => connections.put(record));
    await subscriptions.subscribe(
      planted.map(({ connectionId, userId, userName }) => ({
        topic: topics.room(room),
        connectionId,
        userId,
        userName,
        expiresAt,
      })),
    );
    // Once the records are gone, a late 410 finds nothing to drop and announces nothing.
    onTestFinished(async () => {
      await inChunks(async ({ connectionId }) => {
        await connections.remove(connectionId);
        await subscriptions.removeAllFor(connectionId);
      });
      await local.stack.idle();
    });
  }

  it('caps welcome and joined at 100 users and says so, while REST and listRooms still see everyone', async () => {
    await plantCrowd('plaza', 150);
    const visitor = await join({ userId: 'visitor-151', room: 'plaza,lobby' });
    const welcome = welcomeFrameSchema.parse(visitor.frames.find((frame) => frame.type === 'welcome'));
    expect(welcome.online.plaza).toHaveLength(ONLINE_LIST_LIMIT);
    expect(welcome.online.lobby).toEqual([{ userId: 'visitor-151', userName: 'visitor-151' }]);
    expect(welcome.onlineTruncated).toEqual({ plaza: true });

    const joined = joinedFrameSchema.parse(await visitor.request({ action: 'joinRoom', room: 'plaza' }, 'joined'));
    expect(joined.online).toHaveLength(ONLINE_LIST_LIMIT);
    expect(joined.onlineTruncated).toBe(true);
    expect(new Set(joined.online.map((user) => user.userId)).size).toBe(ONLINE_LIST_LIMIT);

    const { body } = await rest('/rooms/plaza/presence');
    expect(body.online).toHaveLength(151);
    const rooms = roomsFrameSchema.parse(await visitor.request({ action: 'listRooms' }, 'rooms'));
    expect(rooms.rooms).toEqual([
      { room: 'lobby', members: 1 },
      { room: 'plaza', members: 151 },
    ]);
  });
});

describe('history over REST', () => {
  it('pages through 250 messages, newest first, in pages of 100 with no gaps or repeats', async () => {
    const writer = await join({ userId: 'historian', room: 'archive' });
    const sent: string[] = [];
    for (let index = 0; index < 250; index++) {
      const messageId = `hist-${String(index).padStart(3, '0')}`;
      ackFrameSchema.parse(
        await writer.request({ action: 'sendMessage', room: 'archive', message: `#${index}`, messageId }),
      );
      sent.push(messageId);
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await rest(
        `/rooms/archive/messages?limit=100${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(status).toBe(200);
      pages.push((body.messages as Frame[]).map((m) => roomMessageFrameSchema.parse(m).messageId));
      cursor = body.nextCursor as string | undefined;
    } while (cursor);
    expect(pages.map((page) => page.length).slice(0, 3)).toEqual([100, 100, 50]);
    expect(pages.flat()).toEqual([...sent].reverse());
  });

  it('defaults to 50 per page', async () => {
    const { body } = await rest('/rooms/archive/messages');
    expect((body.messages as unknown[]).length).toBe(50);
  });

  it("lists a user's messages through the user-time index, over REST and the AWS API", async () => {
    const { status, body } = await rest('/users/historian/messages?limit=5');
    expect(status).toBe(200);
    expect((body.messages as Frame[]).map((m) => m.messageId)).toEqual([
      'hist-249',
      'hist-248',
      'hist-247',
      'hist-246',
      'hist-245',
    ]);
    // Seed 002's "Query Messages by User", as the AWS CLI would send it.
    const query = await local.stack.dynamoDb.client.send(
      new QueryCommand({
        TableName: local.stack.tableNames.MessagesTable,
        IndexName: 'user-timestamp-index',
        KeyConditionExpression: 'user_id = :user_id',
        ExpressionAttributeValues: { ':user_id': { S: 'historian' } },
      }),
    );
    expect(query.Count).toBe(250);
  });

  it.each([
    ['/rooms/archive/messages?limit=0', 400, /limit/],
    ['/rooms/archive/messages?limit=101', 400, /limit/],
    ['/rooms/archive/messages?limit=ten', 400, /limit/],
    ['/rooms/archive/messages?before=not-a-cursor', 400, /cursor/],
    ['/rooms/no%20spaces/messages', 400, /room/],
    ['/users/bad%23id/messages', 400, /./],
    ['/no/such/route', 404, /./],
  ])('answers GET %s with %i and a reason', async (path, status, reason) => {
    const response = await rest(path);
    expect(response.status).toBe(status);
    expect(JSON.stringify(response.body)).toMatch(reason);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('answers a cursor from another room with 400', async () => {
    const { body } = await rest('/rooms/archive/messages?limit=1');
    const response = await rest(`/rooms/other/messages?before=${encodeURIComponent(String(body.nextCursor))}`);
    expect(response.status).toBe(400);
  });
});
