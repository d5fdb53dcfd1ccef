import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { PRIVATE_ROOM_PREFIX, topics } from '#core/domain/room';
import {
  ackFrameSchema,
  errorFrameSchema,
  membersFrameSchema,
  removedFrameSchema,
  roomCreatedFrameSchema,
  roomMemberFrameSchema,
  roomsFrameSchema,
  welcomeFrameSchema,
} from '#protocol/server-frames';
import { type Frame, type TestClient, useLocalStack } from '../helpers/local-stack.js';

/*
 * Private rooms against the local stack (real `ws` clients, DynamoDB Local, IAM enforced): a private
 * room is invisible and closed to non-members, answering exactly as a room that does not exist, and
 * a kick takes the room off every device of the user at once.
 */

const local = useLocalStack({ parameters: { RateLimitPerSecond: '1000', RateLimitBurst: '1000' } });

/** A private-looking id nobody created. */
const MADE_UP = `${PRIVATE_ROOM_PREFIX}AAAAAAAAAAAAAAAAAAAAAA`;
const NOT_FOUND = { code: 'not_found', message: 'room not found' };

async function rest(path: string, userId: string) {
  const response = await fetch(`${local.stack.urls.rest}${path}`, { headers: { 'x-user-id': userId } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const errorOf = (frame: Frame) => {
  const { code, message } = errorFrameSchema.parse(frame);
  return { code, message };
};

async function createPrivate(owner: TestClient, title: string): Promise<string> {
  const created = roomCreatedFrameSchema.parse(
    await owner.request({ action: 'createRoom', visibility: 'private', title }, 'roomCreated'),
  );
  expect(created.room.startsWith(PRIVATE_ROOM_PREFIX)).toBe(true);
  return created.room;
}

/** A request's direct reply: the frame of `type`, or an error. */
async function reply(client: TestClient, frame: Record<string, unknown>, type: string): Promise<Frame> {
  const before = client.frames.length;
  client.send(frame);
  return client.waitFor(
    (candidate) =>
      client.frames.indexOf(candidate) >= before && (candidate.type === type || candidate.type === 'error'),
  );
}

async function subscribersOf(room: string): Promise<string[]> {
  const result = await local.stack.dynamoDb.client.send(
    new QueryCommand({
      TableName: local.stack.tableNames.SubscriptionsTable,
      KeyConditionExpression: 'topic = :topic',
      ExpressionAttributeValues: { ':topic': { S: topics.room(room) } },
      ConsistentRead: true,
    }),
  );
  return (result.Items ?? []).map((item) => String(item.userId?.S)).sort();
}

async function storedMessages(room: string): Promise<number> {
  const result = await local.stack.dynamoDb.client.send(
    new QueryCommand({
      TableName: local.stack.tableNames.MessagesTable,
      KeyConditionExpression: 'room = :room',
      ExpressionAttributeValues: { ':room': { S: room } },
      ConsistentRead: true,
    }),
  );
  return result.Items?.length ?? 0;
}

async function roleOf(room: string, userId: string): Promise<string | undefined> {
  const result = await local.stack.dynamoDb.client.send(
    new GetItemCommand({
      TableName: local.stack.tableNames.RoomsTable,
      Key: { room: { S: room }, sk: { S: `member#${userId}` } },
      ConsistentRead: true,
    }),
  );
  return result.Item?.role?.S;
}

const stillUp = async (client: TestClient) => {
  expect((await client.request({ action: 'ping' }, 'pong')).type).toBe('pong');
};

describe('a private room is invisible and closed to non-members', () => {
  it('answers a non-member exactly as it answers an id that does not exist, stores nothing, and keeps the connection', async () => {
    const alice = await local.join({ userId: 'pv-alice', room: 'pv-lobby' });
    const room = await createPrivate(alice, 'Launch plans');
    expect((await alice.request({ action: 'joinRoom', room }, 'joined')).room).toBe(room);
    const sent = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', room, message: 'the launch code is 0000' }),
    );

    // $connect's rooms=: silently left out, never subscribed, never named back.
    const mallory = await local.join({ userId: 'pv-mallory', room: `pv-lobby,${room}` });
    const welcome = welcomeFrameSchema.parse(mallory.frames.find((frame) => frame.type === 'welcome'));
    expect(welcome.rooms).toEqual(['pv-lobby']);
    expect(await subscribersOf(room)).toEqual(['pv-alice']);

    const stored = await storedMessages(room);
    for (const target of [room, MADE_UP]) {
      expect(errorOf(await reply(mallory, { action: 'joinRoom', room: target }, 'joined'))).toEqual(NOT_FOUND);
      expect(errorOf(await mallory.request({ action: 'sendMessage', room: target, message: 'hi' }))).toEqual(NOT_FOUND);
      expect(
        errorOf(await reply(mallory, { action: 'resume', room: target, lastTimestamp: sent.timestamp }, 'history')),
      ).toEqual(NOT_FOUND);
      expect(errorOf(await reply(mallory, { action: 'markRead', room: target, upToSeq: 1 }, 'read'))).toEqual(
        NOT_FOUND,
      );
      for (const path of ['messages', 'presence', 'unread']) {
        const answer = await rest(`/rooms/${target}/${path}`, 'pv-mallory');
        expect({ path, status: answer.status, ...answer.body }).toEqual({
          path,
          status: 404,
          error: 'not_found',
          message: 'room not found',
        });
      }
    }
    // Her own message in it, by id: answered like a message that does not exist.
    expect(
      errorOf(await reply(mallory, { action: 'react', messageId: sent.messageId, emoji: '👍' }, 'reactions')),
    ).toEqual({ code: 'not_found', message: 'no such message' });
    expect(
      errorOf(await mallory.request({ action: 'editMessage', messageId: sent.messageId, message: 'mine now' })),
    ).toEqual({ code: 'not_found', message: 'no such message' });
    // Nor is it in anyone's lists or in alice's message list as mallory reads it.
    const rooms = roomsFrameSchema.parse(await mallory.request({ action: 'listRooms' }, 'rooms'));
    expect(rooms.rooms.map((entry) => entry.room)).not.toContain(room);
    const byAlice = await rest('/users/pv-alice/messages', 'pv-mallory');
    expect(JSON.stringify(byAlice.body)).not.toContain(room);
    expect(await storedMessages(room)).toBe(stored);
    expect(await subscribersOf(room)).toEqual(['pv-alice']);
    await stillUp(mallory);

    // The owner sees it all.
    const history = await rest(`/rooms/${room}/messages`, 'pv-alice');
    expect(history.status).toBe(200);
    expect((history.body.messages as Frame[]).map((message) => message.messageId)).toEqual([sent.messageId]);
    const aliceRooms = roomsFrameSchema.parse(await alice.request({ action: 'listRooms' }, 'rooms'));
    expect(aliceRooms.rooms).toContainEqual({
      room,
      members: 1,
      visibility: 'private',
      role: 'owner',
      title: 'Launch plans',
    });
  });

  it('reserves the private prefix: a public join of a made-up private id is not_found', async () => {
    const walker = await local.join({ userId: 'pv-walker', room: 'pv-hall' });
    expect(errorOf(await reply(walker, { action: 'joinRoom', room: MADE_UP }, 'joined'))).toEqual(NOT_FOUND);
    const claim = await reply(
      walker,
      { action: 'createRoom', visibility: 'public', room: `${PRIVATE_ROOM_PREFIX}mine` },
      'roomCreated',
    );
    expect(errorOf(claim).code).toBe('validation_failed');
    await stillUp(walker);
  });
});

describe('members, kicks and bans', () => {
  it('an invited member joins and posts; a kick removes the room from both of their devices at once', async () => {
    const alice = await local.join({ userId: 'kk-alice', room: 'kk-lobby' });
    const room = await createPrivate(alice, 'Kick test');
    await alice.request({ action: 'joinRoom', room }, 'joined');
    const invited = roomMemberFrameSchema.parse(
      await alice.request({ action: 'inviteMember', room, userId: 'kk-bob' }, 'roomMember'),
    );
    expect(invited).toEqual({ type: 'roomMember', room, userId: 'kk-bob', change: 'invited', role: 'member' });

    const phone = await local.join({ userId: 'kk-bob', room: `kk-lobby,${room}` });
    const laptop = await local.join({ userId: 'kk-bob', room: 'kk-lobby' });
    expect(welcomeFrameSchema.parse(phone.frames.find((frame) => frame.type === 'welcome')).rooms).toContain(room);
    await laptop.request({ action: 'joinRoom', room }, 'joined');
    const hello = ackFrameSchema.parse(await laptop.request({ action: 'sendMessage', room, message: 'hi all' }));
    await phone.waitFor((frame) => frame.type === 'message' && frame.messageId === hello.messageId);
    expect(await subscribersOf(room)).toEqual(['kk-alice', 'kk-bob', 'kk-bob']);

    const kicked = roomMemberFrameSchema.parse(
      await alice.request({ action: 'kickMember', room, userId: 'kk-bob' }, 'roomMember'),
    );
    expect(kicked.change).toBe('kicked');
    // Before the moderator's reply: both devices' subscriptions are gone and both were told.
    expect(await subscribersOf(room)).toEqual(['kk-alice']);
    for (const device of [phone, laptop]) {
      const removed = removedFrameSchema.parse(await device.waitFor((frame) => frame.type === 'removed'));
      expect(removed).toEqual({ type: 'removed', room, reason: 'kicked' });
    }

    const after = ackFrameSchema.parse(await alice.request({ action: 'sendMessage', room, message: 'bob is gone' }));
    await alice.waitFor((frame) => frame.type === 'message' && frame.messageId === after.messageId);
    await local.stack.idle();
    for (const device of [phone, laptop]) {
      expect(device.messages(room).map((frame) => frame.messageId)).toEqual([hello.messageId]);
      expect(errorOf(await device.request({ action: 'sendMessage', room, message: 'let me back' }))).toEqual(NOT_FOUND);
      await stillUp(device);
    }
  });

  it('a banned user reconnecting is kept out until the ban is lifted, and cannot be re-invited meanwhile', async () => {
    const alice = await local.join({ userId: 'bn-alice', room: 'bn-lobby' });
    const room = await createPrivate(alice, 'Ban test');
    await alice.request({ action: 'inviteMember', room, userId: 'bn-carol' }, 'roomMember');
    const carol = await local.join({ userId: 'bn-carol', room: `bn-lobby,${room}` });
    const banned = roomMemberFrameSchema.parse(
      await alice.request({ action: 'banMember', room, userId: 'bn-carol', durationSeconds: 3600 }, 'roomMember'),
    );
    expect(banned.change).toBe('banned');
    expect(Date.parse(String(banned.until))).toBeGreaterThan(Date.now());
    expect(removedFrameSchema.parse(await carol.waitFor((frame) => frame.type === 'removed')).reason).toBe('banned');
    await carol.close();

    const back = await local.join({ userId: 'bn-carol', room: `bn-lobby,${room}` });
    expect(welcomeFrameSchema.parse(back.frames.find((frame) => frame.type === 'welcome')).rooms).toEqual(['bn-lobby']);
    expect(errorOf(await reply(back, { action: 'joinRoom', room }, 'joined'))).toEqual(NOT_FOUND);
    expect(await subscribersOf(room)).toEqual([]);
    const reinvite = await reply(alice, { action: 'inviteMember', room, userId: 'bn-carol' }, 'roomMember');
    expect(errorOf(reinvite).code).toBe('forbidden');
    expect(await roleOf(room, 'bn-carol')).toBeUndefined();

    await alice.request({ action: 'unbanMember', room, userId: 'bn-carol' }, 'roomMember');
    await alice.request({ action: 'inviteMember', room, userId: 'bn-carol' }, 'roomMember');
    expect((await back.request({ action: 'joinRoom', room }, 'joined')).room).toBe(room);
  });

  it('a public room with an owner: a banned user gets forbidden with the reason', async () => {
    const owner = await local.join({ userId: 'pb-owner', room: 'pb-lobby' });
    await owner.request({ action: 'createRoom', visibility: 'public', room: 'pb-square' }, 'roomCreated');
    const dave = await local.join({ userId: 'pb-dave', room: 'pb-square' });
    await owner.request({ action: 'banMember', room: 'pb-square', userId: 'pb-dave' }, 'roomMember');
    expect((await dave.waitFor((frame) => frame.type === 'removed')).reason).toBe('banned');
    const refused = errorOf(await dave.request({ action: 'sendMessage', room: 'pb-square', message: 'hey' }));
    expect(refused).toEqual({ code: 'forbidden', message: 'you are banned from this room' });
    expect(errorOf(await reply(dave, { action: 'joinRoom', room: 'pb-square' }, 'joined')).code).toBe('forbidden');
    await stillUp(dave);
  });
});

describe('roles', () => {
  it('refuses a member escalating their own role or acting above it, and changes nothing', async () => {
    const alice = await local.join({ userId: 'rl-alice', room: 'rl-lobby' });
    const room = await createPrivate(alice, 'Roles');
    await alice.request({ action: 'inviteMember', room, userId: 'rl-bob' }, 'roomMember');
    await alice.request({ action: 'inviteMember', room, userId: 'rl-erin' }, 'roomMember');
    const bob = await local.join({ userId: 'rl-bob', room: 'rl-lobby' });

    const attempts: Array<[Record<string, unknown>, string]> = [
      [{ action: 'setRole', room, userId: 'rl-bob', role: 'owner' }, 'nobody can change their own role'],
      [{ action: 'setRole', room, userId: 'rl-erin', role: 'moderator' }, 'only owners can change roles'],
      [{ action: 'kickMember', room, userId: 'rl-alice' }, 'only owners and moderators can remove users'],
      [{ action: 'banMember', room, userId: 'rl-erin' }, 'only owners and moderators can remove users'],
      [{ action: 'inviteMember', room, userId: 'rl-friend' }, 'only owners and moderators can invite'],
      [{ action: 'deleteRoom', room }, 'only owners can delete the room'],
    ];
    for (const [frame, message] of attempts) {
      expect(errorOf(await reply(bob, frame, 'roomMember'))).toEqual({ code: 'forbidden', message });
    }
    expect(await roleOf(room, 'rl-bob')).toBe('member');
    expect(await roleOf(room, 'rl-erin')).toBe('member');
    expect(await roleOf(room, 'rl-friend')).toBeUndefined();
    await stillUp(bob);

    // Members see the room's members and roles; an outsider gets not_found.
    const listed = membersFrameSchema.parse(await bob.request({ action: 'listMembers', room }, 'members'));
    expect(listed.members.map((m) => `${m.userId}:${m.role}`)).toEqual([
      'rl-alice:owner',
      'rl-bob:member',
      'rl-erin:member',
    ]);
    const outsider = await local.join({ userId: 'rl-mallory', room: 'rl-lobby' });
    expect(errorOf(await reply(outsider, { action: 'listMembers', room }, 'members'))).toEqual(NOT_FOUND);

    // A moderator may remove members but not owners; the owner cannot change their own role either.
    await alice.request({ action: 'setRole', room, userId: 'rl-bob', role: 'moderator' }, 'roomMember');
    // The promotion is pushed to bob's connection too, so his controls follow it without a reload.
    expect(
      roomMemberFrameSchema.parse(await bob.waitFor((frame) => frame.type === 'roomMember' && frame.change === 'role')),
    ).toEqual({ type: 'roomMember', room, userId: 'rl-bob', change: 'role', role: 'moderator' });
    expect(errorOf(await reply(bob, { action: 'kickMember', room, userId: 'rl-alice' }, 'roomMember'))).toEqual({
      code: 'forbidden',
      message: 'moderators can remove members only, not owners or moderators',
    });
    expect(
      errorOf(await reply(alice, { action: 'setRole', room, userId: 'rl-alice', role: 'member' }, 'roomMember')),
    ).toEqual({ code: 'forbidden', message: 'nobody can change their own role' });
    expect((await bob.request({ action: 'kickMember', room, userId: 'rl-erin' }, 'roomMember')).change).toBe('kicked');
  });

  it('the last owner cannot quit; deleting the room tells its members and makes the id not_found', async () => {
    const alice = await local.join({ userId: 'dl-alice', room: 'dl-lobby' });
    const room = await createPrivate(alice, 'Short-lived');
    await alice.request({ action: 'joinRoom', room }, 'joined');
    await alice.request({ action: 'inviteMember', room, userId: 'dl-bob' }, 'roomMember');
    const bob = await local.join({ userId: 'dl-bob', room: `dl-lobby,${room}` });

    expect(errorOf(await reply(alice, { action: 'quitRoom', room }, 'roomMember'))).toEqual({
      code: 'forbidden',
      message: 'the last owner cannot leave: delete the room or make someone else owner first',
    });
    expect((await alice.request({ action: 'deleteRoom', room }, 'roomDeleted')).room).toBe(room);
    expect(await subscribersOf(room)).toEqual([]);
    expect(removedFrameSchema.parse(await bob.waitFor((frame) => frame.type === 'removed')).reason).toBe('deleted');
    expect(errorOf(await reply(alice, { action: 'joinRoom', room }, 'joined'))).toEqual(NOT_FOUND);
    expect((await rest(`/rooms/${room}/messages`, 'dl-alice')).status).toBe(404);
  });
});
