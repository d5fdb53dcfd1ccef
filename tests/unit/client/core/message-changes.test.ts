import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, type ChatRest } from '#client-core/chat-client';
import { mergeChanges } from '#client-core/message-merge';
import type { EditedFrame, ReactionsFrame, RoomMessageFrame, WelcomeFrame } from '#protocol/server-frames';
import { FakeWebSocket } from '../../../helpers/fake-websocket.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

const roomMessage = (
  id: string,
  seconds: number,
  user = 'bob',
  extra: Partial<RoomMessageFrame> = {},
): RoomMessageFrame => ({
  type: 'message',
  action: 'message',
  messageId: id,
  room: 'general',
  user_id: user,
  userName: user,
  message: `text ${id}`,
  timestamp: at(seconds),
  ...extra,
});

const edited = (id: string, text: string, seconds: number, by = 'bob'): EditedFrame => ({
  type: 'edited',
  messageId: id,
  room: 'general',
  message: text,
  editedAt: at(seconds),
  editedBy: by,
});

const reactions = (
  id: string,
  counts: Record<string, number>,
  userId: string,
  emoji: string,
  reacted: boolean,
): ReactionsFrame => ({
  type: 'reactions',
  messageId: id,
  room: 'general',
  counts,
  userId,
  emoji,
  reacted,
});

const welcome: WelcomeFrame = {
  type: 'welcome',
  connectionId: 'conn',
  user: { userId: 'alice', userName: 'alice' },
  rooms: ['general'],
  online: { general: [] },
  pending: 0,
};

async function connected(history: RoomMessageFrame[] = []) {
  const rest: ChatRest = {
    roomHistory: async (room) => ({ room, messages: history }),
    roomPresence: async (room) => ({ room, online: [] }),
    conversations: async () => ({ conversations: [] }),
    conversationHistory: async (conversationId) => ({ conversationId, messages: [] }),
  };
  const client = new ChatClient({
    me: { userId: 'alice', userName: 'alice' },
    rest,
    rooms: ['general'],
    storage: { getItem: () => null, setItem: () => undefined },
    WebSocket: FakeWebSocket,
    webSocketUrl: () => 'ws://test/',
    newMessageId: () => 'mine-1',
    now: () => NOW,
    backoff: { baseMs: 1_000, maxMs: 1_000 },
  });
  client.start();
  await vi.advanceTimersByTimeAsync(1_000);
  FakeWebSocket.latest.open();
  FakeWebSocket.latest.receive(welcome);
  await vi.advanceTimersByTimeAsync(0);
  const receive = async (frame: object) => {
    FakeWebSocket.latest.receive(frame);
    await vi.advanceTimersByTimeAsync(0);
  };
  const item = (id: string) => client.snapshot().activeThread?.timeline.get(id);
  const sent = (action: string) => FakeWebSocket.latest.frames().filter((frame) => frame.action === action);
  return { client, receive, item, sent };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('mergeChanges', () => {
  it('keeps the newest edit whatever order the copies arrive in', () => {
    const original = { text: 'helo' };
    const edit1 = { text: 'hello', editedAt: at(1) };
    const edit2 = { text: 'hello!', editedAt: at(2) };
    expect(mergeChanges(edit1, original)).toEqual(edit1);
    expect(mergeChanges(edit2, edit1)).toEqual(edit2);
    expect(mergeChanges(edit1, edit2)).toEqual(edit2);
    expect(mergeChanges(original, edit1)).toEqual(edit1);
  });

  it('takes reaction snapshots when a copy carries them and keeps them when it does not', () => {
    const reacted = { text: 'hi', reactions: { '👍': 2 }, myReactions: ['👍'] };
    expect(mergeChanges(reacted, { text: 'hi' })).toEqual(reacted);
    expect(mergeChanges(reacted, { text: 'hi', reactions: { '🎉': 1 } })).toEqual({
      text: 'hi',
      reactions: { '🎉': 1 },
      myReactions: ['👍'],
    });
  });
});

describe('ChatClient edits and reactions', () => {
  it('shows an edit, and a late copy of the original does not undo it', async () => {
    const { receive, item } = await connected();
    await receive(roomMessage('m1', 1));
    await receive(edited('m1', 'fixed', 5));
    expect(item('m1')).toMatchObject({ text: 'fixed', editedAt: at(5) });
    await receive(roomMessage('m1', 1));
    await receive(edited('m1', 'older edit', 3));
    expect(item('m1')).toMatchObject({ text: 'fixed', editedAt: at(5) });
  });

  it("keeps the message's time and place when the edit's ack (with the edit's time) comes", async () => {
    const { receive, item, client } = await connected();
    await receive(roomMessage('mine-a', 1, 'alice'));
    await receive(roomMessage('later', 2));
    await receive({ type: 'ack', messageId: 'mine-a', room: 'general', timestamp: at(9) });
    expect(item('mine-a')?.timestamp).toBe(at(1));
    expect(
      client
        .snapshot()
        .activeThread?.timeline.list()
        .map((each) => each.id),
    ).toEqual(['mine-a', 'later']);
  });

  it('ignores an edit of a deleted message', async () => {
    const { receive, item } = await connected();
    await receive(roomMessage('m1', 1));
    await receive({ type: 'deleted', data: { messageId: 'm1', room: 'general' } });
    await receive(edited('m1', 'back from the dead', 5));
    expect(item('m1')).toMatchObject({ text: '', deleted: true });
  });

  it("takes the counts from every reactions frame and the user's own emojis only from their own", async () => {
    const { receive, item } = await connected();
    await receive(roomMessage('m1', 1));
    await receive(reactions('m1', { '👍': 1 }, 'bob', '👍', true));
    expect(item('m1')).toMatchObject({ reactions: { '👍': 1 } });
    expect(item('m1')?.myReactions).toBeUndefined();
    await receive(reactions('m1', { '👍': 2 }, 'alice', '👍', true));
    await receive(reactions('m1', { '👍': 2, '🎉': 1 }, 'alice', '🎉', true));
    expect(item('m1')).toMatchObject({ reactions: { '👍': 2, '🎉': 1 }, myReactions: ['🎉', '👍'] });
    // The reply and the broadcast of one change are the same frame: applying it twice changes nothing.
    await receive(reactions('m1', { '👍': 2, '🎉': 1 }, 'alice', '🎉', true));
    expect(item('m1')?.myReactions).toEqual(['🎉', '👍']);
    await receive(reactions('m1', { '👍': 1, '🎉': 1 }, 'alice', '👍', false));
    expect(item('m1')).toMatchObject({ reactions: { '👍': 1, '🎉': 1 }, myReactions: ['🎉'] });
  });

  it('toggles: react when the user has not, unreact when they have', async () => {
    const { client, receive, sent } = await connected();
    await receive(roomMessage('m1', 1));
    expect(client.toggleReaction('m1', '👍')).toBe(true);
    expect(sent('react')).toEqual([{ action: 'react', messageId: 'm1', emoji: '👍' }]);
    await receive(reactions('m1', { '👍': 1 }, 'alice', '👍', true));
    expect(client.toggleReaction('m1', '👍')).toBe(true);
    expect(sent('unreact')).toEqual([{ action: 'unreact', messageId: 'm1', emoji: '👍' }]);
    expect(client.toggleReaction('unknown', '👍')).toBe(false);
  });

  it("edits only the user's own confirmed messages, and finds the last one for the up arrow", async () => {
    const { client, receive, sent } = await connected();
    await receive(roomMessage('mine-a', 1, 'alice'));
    await receive(roomMessage('theirs', 2, 'bob'));
    expect(client.lastOwnMessage()?.id).toBe('mine-a');
    expect(client.lastMessage()?.id).toBe('theirs');
    expect(client.editMessage('theirs', 'not mine')).toBe(false);
    expect(client.editMessage('mine-a', 'text mine-a')).toBe(false);
    expect(client.editMessage('mine-a', '   ')).toBe(false);
    expect(client.editMessage('mine-a', 'better')).toBe(true);
    expect(sent('editMessage')).toEqual([{ action: 'editMessage', messageId: 'mine-a', message: 'better' }]);
    // Still unconfirmed: nothing to edit yet.
    client.send('pending one');
    expect(client.lastOwnMessage()?.id).toBe('mine-a');
    expect(client.editMessage('mine-1', 'too soon')).toBe(false);
  });

  it('reads editedAt, counts and myReactions from history', async () => {
    const { item } = await connected([
      roomMessage('h1', 1, 'bob', {
        message: 'edited text',
        editedAt: at(2),
        reactions: { '👍': 3 },
        myReactions: ['👍'],
      }),
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(item('h1')).toMatchObject({
      text: 'edited text',
      editedAt: at(2),
      reactions: { '👍': 3 },
      myReactions: ['👍'],
    });
  });
});
