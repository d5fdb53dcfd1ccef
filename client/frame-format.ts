import type { ThreadView } from '#client-core/threads';
import type { ChatItem } from '#client-core/timeline';
import {
  directMessageFrameSchema,
  editedFrameSchema,
  errorFrameSchema,
  invitedFrameSchema,
  joinedFrameSchema,
  leftFrameSchema,
  membersFrameSchema,
  type OnlineUser,
  presenceFrameSchema,
  type RoomMessageFrame,
  reactionsFrameSchema,
  removedFrameSchema,
  roomCreatedFrameSchema,
  roomDeletedFrameSchema,
  roomMemberFrameSchema,
  roomMessageFrameSchema,
  roomReadFrameSchema,
  roomsFrameSchema,
  typingFrameSchema,
  welcomeFrameSchema,
} from '#protocol/server-frames';
import { type Painter, sanitize } from './ansi.js';

export interface FormatContext {
  paint: Painter;
  /** Renders a frame's ISO timestamp for display. */
  clock(iso: string): string;
}

const pad = (value: number) => String(value).padStart(2, '0');

/**
 * Local wall-clock time, `HH:MM:SS`; older than today also gets the date, so history from
 * yesterday does not read as if it were just now.
 */
export function localClock(now: () => Date = () => new Date()): (iso: string) => string {
  return (iso) => {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return '--:--:--';
    const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    const today = now();
    const sameDay =
      date.getFullYear() === today.getFullYear() &&
      date.getMonth() === today.getMonth() &&
      date.getDate() === today.getDate();
    return sameDay ? time : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
  };
}

const names = (users: OnlineUser[]) => users.map((user) => sanitize(user.userName)).join(', ') || 'nobody';

/** `: names`, or for a list the server cut, a note that it is only part of the room. */
const onlineList = (users: OnlineUser[], truncated: boolean | undefined) =>
  truncated ? ` (${users.length}+): ${names(users)} and more; /rooms counts them` : `: ${names(users)}`;

/** One room message as a line: time, room, sender in their colour, text. */
export function formatRoomMessage(frame: RoomMessageFrame, context: FormatContext): string {
  const { paint } = context;
  return `${paint.dim(context.clock(frame.timestamp))} ${paint.dim(`#${frame.room}`)} ${paint.sender(
    frame.user_id,
    sanitize(frame.userName),
  )}: ${sanitize(frame.message)}${changesSuffix(frame, context)}`;
}

/** ` (edited)` and the reaction counts, when a message has them. */
function changesSuffix(message: { editedAt?: string; reactions?: Record<string, number> }, context: FormatContext) {
  const edited = message.editedAt ? ` ${context.paint.dim('(edited)')}` : '';
  const counts = reactionCounts(message.reactions);
  return `${edited}${counts ? ` ${context.paint.dim(`[${counts}]`)}` : ''}`;
}

const reactionCounts = (counts: Record<string, number> = {}) =>
  Object.entries(counts)
    .map(([emoji, count]) => `${sanitize(emoji)} ${count}`)
    .join(' ');

/**
 * One message of a thread as a line: a room message as above, a direct one as
 * `time DM sender → recipient: text` (the recipient is the peer, or `myId` for what the peer wrote).
 */
export function formatItem(
  thread: Pick<ThreadView, 'kind' | 'name'>,
  item: ChatItem,
  myId: string,
  context: FormatContext,
): string {
  return withFiles(formatThreadItem(thread, item, myId, context), item, context);
}

/** A message's files after its text: `[file: cat.png, image/png, 12 KB · id]` (download: getAttachment). */
function withFiles(line: string, item: ChatItem, context: FormatContext): string {
  if (!item.attachments?.length || item.deleted) return line;
  const files = item.attachments.map(
    (file) =>
      `[file: ${sanitize(file.fileName)}, ${sanitize(file.contentType)}, ${file.size < 1024 ? `${file.size} B` : `${Math.ceil(file.size / 1024)} KB`} · ${sanitize(file.attachmentId)}]`,
  );
  return `${line} ${context.paint.dim(files.join(' '))}`;
}

function formatThreadItem(
  thread: Pick<ThreadView, 'kind' | 'name'>,
  item: ChatItem,
  myId: string,
  context: FormatContext,
): string {
  const { paint } = context;
  if (thread.kind === 'room') {
    return formatRoomMessage(
      {
        type: 'message',
        action: 'message',
        messageId: item.id,
        room: thread.name,
        user_id: item.senderId,
        userName: item.senderName,
        message: item.text,
        timestamp: item.timestamp,
        ...(item.editedAt ? { editedAt: item.editedAt } : {}),
        ...(item.reactions ? { reactions: item.reactions } : {}),
      },
      context,
    );
  }
  const text = item.deleted ? paint.dim('(deleted)') : `${sanitize(item.text)}${changesSuffix(item, context)}`;
  const recipient = item.mine ? thread.name : myId;
  return `${paint.dim(context.clock(item.timestamp))} ${paint.accent('DM')} ${paint.sender(
    item.senderId,
    sanitize(item.senderName),
  )} → ${sanitize(recipient)}: ${text}`;
}

/**
 * The human-readable lines for a server frame (none for frames not worth showing, such as
 * acks). History frames are unrolled by the session, which dedups their messages.
 */
export function formatFrame(frame: unknown, context: FormatContext): string[] {
  const { paint } = context;
  const message = roomMessageFrameSchema.safeParse(frame);
  if (message.success) return [formatRoomMessage(message.data, context)];

  const direct = directMessageFrameSchema.safeParse(frame);
  if (direct.success) {
    const data = direct.data.data;
    const text = data.isDeleted ? paint.dim('(deleted)') : sanitize(data.content);
    return [
      `${paint.dim(context.clock(data.timestamp))} ${paint.accent('DM')} ${paint.sender(
        data.senderId,
        sanitize(data.senderName),
      )} → ${sanitize(data.recipientId)}: ${text}`,
    ];
  }

  const presence = presenceFrameSchema.safeParse(frame);
  if (presence.success) {
    const { event, room, userId, userName, timestamp } = presence.data;
    const what = {
      joined: `joined #${room}`,
      left: `left #${room}`,
      online: `came online in #${room}`,
      offline: `went offline in #${room}`,
    }[event];
    return [
      `${paint.dim(context.clock(timestamp))} ${paint.dim('*')} ${paint.sender(userId, sanitize(userName))} ${paint.dim(what)}`,
    ];
  }

  const error = errorFrameSchema.safeParse(frame);
  if (error.success) {
    const issues = (error.data.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    return [
      paint.error(`! ${error.data.code}: ${sanitize(error.data.message)}${issues ? ` (${sanitize(issues)})` : ''}`),
    ];
  }

  const welcome = welcomeFrameSchema.safeParse(frame);
  if (welcome.success) {
    const { user, rooms, online, onlineTruncated, pending } = welcome.data;
    const lines = [
      paint.dim(
        `connected as ${sanitize(user.userName)} (${sanitize(user.userId)}) · rooms: ${rooms.map((r) => `#${r}`).join(', ')}`,
      ),
    ];
    for (const room of rooms) {
      lines.push(paint.dim(`  online in #${room}${onlineList(online[room] ?? [], onlineTruncated?.[room])}`));
    }
    if (pending > 0) lines.push(paint.dim(`  ${pending} direct message(s) were waiting for you`));
    return lines;
  }

  const joined = joinedFrameSchema.safeParse(frame);
  if (joined.success) {
    const { room, online, onlineTruncated } = joined.data;
    return [paint.dim(`joined #${room} · online${onlineList(online, onlineTruncated)}`)];
  }

  const left = leftFrameSchema.safeParse(frame);
  if (left.success) return [paint.dim(`left #${left.data.room}`)];

  const rooms = roomsFrameSchema.safeParse(frame);
  if (rooms.success) {
    if (rooms.data.rooms.length === 0) return [paint.dim('no rooms')];
    const describe = (room: (typeof rooms.data.rooms)[number]) =>
      `#${room.room}${room.title ? ` "${sanitize(room.title)}"` : ''} (${room.members}${room.role ? `, ${room.role}` : ''})`;
    return [paint.dim(`rooms: ${rooms.data.rooms.map(describe).join(', ')}`)];
  }

  const created = roomCreatedFrameSchema.safeParse(frame);
  if (created.success) {
    const { room, visibility, title } = created.data;
    return [paint.dim(`created ${visibility} room #${room}${title ? ` "${sanitize(title)}"` : ''}; joining`)];
  }

  const member = roomMemberFrameSchema.safeParse(frame);
  if (member.success) {
    const { room, userId, change, role, until, unchanged } = member.data;
    const detail =
      change === 'role' ? ` → ${role}` : until ? ` until ${until}` : unchanged ? ' (already a member)' : '';
    return [paint.dim(`#${room}: ${sanitize(userId)} ${change}${detail}`)];
  }

  const members = membersFrameSchema.safeParse(frame);
  if (members.success) {
    const { room, members: list, truncated } = members.data;
    const names = list.map((member) => `${sanitize(member.userId)} (${member.role})`).join(', ');
    return [paint.dim(`#${room} members: ${names}${truncated ? ', …' : ''}`)];
  }

  const deletedRoom = roomDeletedFrameSchema.safeParse(frame);
  if (deletedRoom.success) return [paint.dim(`deleted #${deletedRoom.data.room}`)];

  const removed = removedFrameSchema.safeParse(frame);
  if (removed.success) {
    const { room, reason, until } = removed.data;
    return [paint.error(`removed from #${room}: ${reason}${until ? ` until ${until}` : ''}`)];
  }

  const invited = invitedFrameSchema.safeParse(frame);
  if (invited.success) {
    const { room, title, by } = invited.data;
    return [paint.accent(`${sanitize(by)} added you to #${room}${title ? ` "${sanitize(title)}"` : ''}; joining`)];
  }

  const typing = typingFrameSchema.safeParse(frame);
  if (typing.success) {
    const { room, userId, userName } = typing.data;
    const where = room !== undefined ? ` in #${room}` : ' (DM)';
    return [`${paint.sender(userId, sanitize(userName))} ${paint.dim(`is typing…${where}`)}`];
  }

  // Read positions only move badges, which a terminal does not have.
  if (roomReadFrameSchema.safeParse(frame).success) return [];
  const edited = editedFrameSchema.safeParse(frame);
  if (edited.success) {
    const { editedAt, editedBy, room, message } = edited.data;
    const where = room ? paint.dim(`#${room}`) : paint.accent('DM');
    return [
      `${paint.dim(context.clock(editedAt))} ${where} ${paint.sender(editedBy, sanitize(editedBy))} ${paint.dim(
        'edited:',
      )} ${sanitize(message)}`,
    ];
  }

  const reactions = reactionsFrameSchema.safeParse(frame);
  if (reactions.success) {
    const { userId, emoji, reacted, counts, room } = reactions.data;
    const where = room ? `#${room}` : 'DM';
    const total = reactionCounts(counts);
    return [
      `${paint.dim('*')} ${paint.sender(userId, sanitize(userId))} ${paint.dim(
        `${reacted ? 'reacted' : 'took back'} ${sanitize(emoji)} in ${where}${total ? ` · ${total}` : ' · no reactions'}`,
      )}`,
    ];
  }

  const type = (frame as { type?: unknown } | null)?.type;
  if (type === 'ack') return [];
  // Answers to /upload's requests: the command prints the outcome (and a presigned URL is no screen text).
  if (type === 'upload' || type === 'attachment') return [];
  if (type === 'pong') return [paint.dim('pong')];
  return [paint.dim(sanitize(JSON.stringify(frame)))];
}
