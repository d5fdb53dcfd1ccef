import type { AttachmentFrame, UploadFrame } from '#protocol/server-frames';
import {
  type AttachmentLimits,
  type AttachmentRecord,
  type AttachmentRef,
  attachedKey,
  DOWNLOAD_URL_SECONDS,
  newAttachmentId,
  PENDING_UPLOAD_SECONDS,
  quotaDay,
  UPLOAD_URL_SECONDS,
  uploadKey,
} from '../domain/attachment.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  NotUploadedError,
  PayloadTooLargeError,
  UnsupportedTypeError,
  ValidationError,
} from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { directPartition } from '../domain/message.js';
import { isPrivateRoomId, topics } from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import type {
  AttachmentStore,
  ConnectionStore,
  ConversationStore,
  ObjectStorage,
  SubscriptionStore,
} from '../ports.js';
import { canAccessRoom, type RoomAccessDeps, roomNotFound } from './membership.js';

/** Where a file is shared: a room, or a direct conversation (stored as `dm#<conversationId>`). */
export type AttachmentPlace = { room: string } | { conversationId: string };

export const placeKey = (place: AttachmentPlace) =>
  'room' in place ? place.room : directPartition(place.conversationId);

export interface MembershipReaders extends RoomAccessDeps {
  connections: Pick<ConnectionStore, 'liveConnectionsOf'>;
  subscriptions: Pick<SubscriptionStore, 'topicsOf'>;
  conversations: Pick<ConversationStore, 'participants'>;
}

/**
 * Whether a user may share in and read from a place: a participant of a conversation, or a user the
 * room-access policy lets in who has a live connection subscribed to the room.
 */
export async function isMemberOf(place: string, userId: string, deps: MembershipReaders): Promise<boolean> {
  if (place.startsWith('dm#')) {
    return (await deps.conversations.participants(place.slice('dm#'.length)))?.includes(userId) ?? false;
  }
  if (!(await canAccessRoom(place, userId, deps))) return false;
  const live = await deps.connections.liveConnectionsOf(userId, epochSeconds());
  for (const connection of live) {
    if ((await deps.subscriptions.topicsOf(connection.connectionId)).includes(topics.room(place))) return true;
  }
  return false;
}

export interface AttachmentDeps extends MembershipReaders {
  attachments: AttachmentStore;
  storage: ObjectStorage;
  limits: AttachmentLimits;
}

export interface RequestUploadInput {
  identity: Identity;
  place: AttachmentPlace;
  fileName: string;
  contentType: string;
  size: number;
  now?: Date;
}

/**
 * requestUpload. Primary course:
 * 1. Refuse a type the deployment does not allow, or a file over its size limit.
 * 2. Refuse a user who is not in the room or conversation.
 * 3. Record the attachment (pending, a day to live) and count its size against the user's day, at once.
 * 4. Presign a PUT of exactly that size and type to the staging key: S3 refuses any other upload.
 */
export async function requestUpload(input: RequestUploadInput, deps: AttachmentDeps): Promise<UploadFrame> {
  const { limits } = deps;
  if (!limits.allowedTypes.includes(input.contentType)) {
    throw new UnsupportedTypeError(
      `${input.contentType} files are not accepted; allowed: ${limits.allowedTypes.join(', ')}`,
    );
  }
  if (input.size > limits.maxBytes) {
    throw new PayloadTooLargeError(`file is ${input.size} bytes; the limit is ${limits.maxBytes}`);
  }
  const place = placeKey(input.place);
  if (!(await isMemberOf(place, input.identity.userId, deps))) {
    if ('room' in input.place && isPrivateRoomId(input.place.room)) throw roomNotFound();
    throw new ForbiddenError(
      'room' in input.place ? 'not a member of that room' : 'not a participant of that conversation',
    );
  }
  const now = input.now ?? new Date();
  const attachmentId = newAttachmentId();
  const expiresAt = epochSeconds(now.getTime()) + PENDING_UPLOAD_SECONDS;
  const record: AttachmentRecord = {
    attachmentId,
    ownerId: input.identity.userId,
    place,
    fileName: input.fileName,
    contentType: input.contentType,
    size: input.size,
    status: 'pending',
    createdAt: now.toISOString(),
    expiresAt,
  };
  // The counter outlives its day by one, so a request just after midnight cannot find yesterday's.
  await deps.attachments.create(record, {
    day: quotaDay(now),
    limitBytes: limits.quotaBytesPerDay,
    expiresAt: expiresAt + PENDING_UPLOAD_SECONDS,
  });
  const upload = await deps.storage.presignUpload(
    uploadKey(attachmentId),
    { contentType: input.contentType, size: input.size },
    UPLOAD_URL_SECONDS,
  );
  return { type: 'upload', attachmentId, ...upload };
}

export interface AttachToMessageInput {
  identity: Identity;
  /** The storage partition the message goes to (a room, or `dm#<conversationId>`). */
  place: string;
  attachmentIds: readonly string[];
  messageId: string;
  /** The message's expiry (epoch seconds): its files' records live as long. */
  expiresAt: number;
}

/**
 * The files a message carries. Each must be the sender's own upload, for this room or conversation,
 * uploaded, and not on another message. It is then copied out of staging (the uploader's presigned URL
 * cannot touch the copy, and the lifecycle leaves it alone) and marked as this message's. A retried send
 * with the same messageId finds its files already attached and goes through again.
 */
export async function attachToMessage(
  input: AttachToMessageInput,
  deps: Pick<AttachmentDeps, 'attachments' | 'storage'>,
): Promise<AttachmentRef[]> {
  const ids = [...new Set(input.attachmentIds)];
  const records = await Promise.all(ids.map((id) => deps.attachments.get(id, epochSeconds())));
  const refs: AttachmentRef[] = [];
  for (const [index, record] of records.entries()) {
    const id = ids[index] as string;
    if (!record || record.ownerId !== input.identity.userId) {
      throw new ForbiddenError(`attachment ${id} is not one of your uploads`);
    }
    if (record.place !== input.place) {
      throw new ValidationError('attachment was uploaded for another room or conversation', [
        { path: 'attachments', message: `${id} belongs elsewhere` },
      ]);
    }
    if (record.status === 'attached' && record.messageId !== input.messageId) {
      throw new ConflictError(`attachment ${id} is already on another message`);
    }
    refs.push({
      attachmentId: id,
      fileName: record.fileName,
      contentType: record.contentType,
      size: record.size,
    });
  }
  await Promise.all(
    records.map(async (record) => {
      if (!record || record.status === 'attached') return;
      if (!(await deps.storage.copy(uploadKey(record.attachmentId), attachedKey(record.attachmentId)))) {
        throw new NotUploadedError(`attachment ${record.attachmentId} was not uploaded (or its upload expired)`);
      }
      if (!(await deps.attachments.markAttached(record.attachmentId, input.messageId, input.expiresAt))) {
        throw new ConflictError(`attachment ${record.attachmentId} is already on another message`);
      }
    }),
  );
  return refs;
}

/**
 * getAttachment (socket) and GET /attachments/{id}: a short-lived download URL for a file on a
 * message, for members of the room or conversation it was posted in only.
 */
export async function getAttachment(
  input: { identity: Identity; attachmentId: string },
  deps: Pick<AttachmentDeps, 'attachments' | 'storage'> & MembershipReaders,
): Promise<AttachmentFrame> {
  const record = await deps.attachments.get(input.attachmentId, epochSeconds());
  if (record?.status !== 'attached') throw new NotFoundError('no such attachment');
  if (!(await isMemberOf(record.place, input.identity.userId, deps))) {
    // A file in a private room the user is not in answers like a file that does not exist.
    if (isPrivateRoomId(record.place)) throw new NotFoundError('no such attachment');
    throw new ForbiddenError('not a member of the room or conversation this file was shared in');
  }
  const download = await deps.storage.presignDownload(
    attachedKey(record.attachmentId),
    { fileName: record.fileName, contentType: record.contentType },
    DOWNLOAD_URL_SECONDS,
  );
  return {
    type: 'attachment',
    attachmentId: record.attachmentId,
    fileName: record.fileName,
    contentType: record.contentType,
    size: record.size,
    ...download,
  };
}
