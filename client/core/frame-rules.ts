import type { ServerFrame } from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import type { ChatIdentity } from './chat-types.js';
import type { DirectMessages } from './direct-messages.js';
import type { HistoryPaging } from './history-paging.js';
import { isDirectMessage, isRoomMessage } from './incoming.js';
import { applyEdited, applyReactions } from './message-changes.js';
import type { Outbox } from './outbox.js';
import type { Presence } from './presence.js';
import type { RoomAdmin } from './room-admin.js';
import type { RoomList } from './room-list.js';
import type { RoomReads } from './room-reads.js';
import type { SequenceWatch } from './sequence-watch.js';
import { roomKey } from './threads.js';
import type { TypingIndicators } from './typing.js';

/** The parts of the client a server frame can change. */
export interface FrameTargets {
  context: ChatContext;
  outbox: Outbox;
  presence: Presence;
  history: HistoryPaging;
  direct: DirectMessages;
  roomList: RoomList;
  roomAdmin: RoomAdmin;
  typing: TypingIndicators;
  roomReads: RoomReads;
  sequences: SequenceWatch;
  setMe(me: ChatIdentity): void;
  setError(error: string): void;
  selectThread(key: string): void;
}

/** What each server frame does to the client's state; false for a frame that changes nothing. */
export function applyServerFrame(frame: ServerFrame, to: FrameTargets): boolean {
  const { threads } = to.context;
  if (isRoomMessage(frame)) {
    const thread = threads.get(roomKey(frame.room));
    if (thread) {
      threads.addRoomMessage(thread, frame, 'live');
      to.typing.onMessage(thread.key, frame.user_id);
      if (frame.seq !== undefined) to.sequences.onSeq(thread, frame.seq);
      to.roomReads.markRead(thread);
    }
    return true;
  }
  if (isDirectMessage(frame)) {
    const { thread } = threads.addDirect(frame.data, 'live');
    to.typing.onMessage(thread.key, frame.data.senderId);
    to.direct.markRead(thread);
    return true;
  }
  switch (frame.type) {
    case 'welcome':
      to.setMe({ userId: frame.user.userId, userName: frame.user.userName });
      for (const [room, online] of Object.entries(frame.online)) {
        to.presence.setOnline(room, online, frame.onlineTruncated?.[room] === true);
      }
      to.roomReads.onWelcome(frame.unread);
      return true;
    case 'ack':
      to.outbox.onAck(frame);
      return true;
    case 'error': {
      to.outbox.onError(frame);
      // A join has no messageId; an anonymous error while one is pending is taken to be its answer.
      if (!frame.messageId) to.roomList.joinRefused();
      const details = (frame.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      to.setError(`${frame.code}: ${details ? `${frame.message} (${details})` : frame.message}`);
      return true;
    }
    case 'presence':
      to.presence.onPresence(frame);
      return true;
    case 'joined': {
      const { thread, select } = to.roomList.onJoined(frame.room);
      to.presence.setOnline(frame.room, frame.online, frame.onlineTruncated === true);
      if (select) to.selectThread(thread.key);
      to.history.catchUpRoom(thread);
      to.roomAdmin.onJoined(frame.room);
      return true;
    }
    // Kicked, banned, quit (here or on another device) or deleted: the server dropped the subscription
    // already. A deleteRoom's reply comes after the owner's own `removed`, so it usually finds nothing left.
    case 'removed':
    case 'roomDeleted':
      to.roomAdmin.onRemoved(frame.type === 'removed' ? frame : { room: frame.room, reason: 'deleted' });
      dropRoom(frame.room, to);
      return true;
    case 'left':
      dropRoom(frame.room, to);
      return true;
    case 'roomCreated':
      to.roomAdmin.onCreated(frame);
      return true;
    case 'invited':
      to.roomAdmin.onInvited(frame);
      return true;
    case 'rooms':
      to.roomAdmin.onRooms(frame);
      return true;
    case 'members':
      to.roomAdmin.onMembers(frame);
      return true;
    case 'roomMember':
      to.roomAdmin.onMember(frame);
      return true;
    case 'history': {
      to.history.onHistory(frame);
      const thread = threads.get(roomKey(frame.room));
      if (thread)
        for (const message of frame.messages) if (message.seq !== undefined) to.sequences.onSeq(thread, message.seq);
      to.sequences.afterHistory(frame.room);
      if (thread) to.roomReads.markRead(thread);
      return true;
    }
    case 'status': {
      const thread = threads.ofMessage(frame.data.messageId, frame.data.conversationId);
      thread?.timeline.update(frame.data.messageId, { delivery: frame.data.status });
      return true;
    }
    case 'deleted': {
      const { messageId, conversationId, room } = frame.data;
      const thread = room ? threads.get(roomKey(room)) : threads.ofMessage(messageId, conversationId);
      thread?.timeline.markDeleted(messageId);
      return true;
    }
    case 'typing':
      to.typing.onTyping(frame);
      return true;
    case 'read':
      if ('room' in frame) to.roomReads.onRead(frame);
      return 'room' in frame;
    case 'edited':
      return applyEdited(frame, threads);
    case 'reactions':
      return applyReactions(frame, threads, to.context.me().userId);
    default:
      return false;
  }
}

/** Takes a room off the list; if it was on screen, shows the first room left. */
function dropRoom(room: string, to: FrameTargets): void {
  const { threads } = to.context;
  if (to.roomList.onLeft(room) && !threads.has(to.context.activeKey())) {
    to.selectThread(threads.rooms()[0]?.key ?? '');
  }
}
