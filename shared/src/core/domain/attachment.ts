import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hasLoneSurrogate } from './text.js';

/** An attachment id, as clients name one in frames and REST paths. */
export const attachmentIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'attachmentId may contain only letters, digits, _ and -');

/** A file's display name: no path, no control characters, at most 200 characters. */
export const fileNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (name) => ![...name].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f' || c === '/' || c === '\\'),
    'fileName may not hold a path or control characters',
  )
  .refine((name) => !hasLoneSurrogate(name), 'fileName must be valid Unicode');

/** A media type as a client sends it (`image/png`); parameters such as `; charset=` are refused. */
export const contentTypeSchema = z
  .string()
  .max(100)
  .regex(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/, 'contentType must be a bare media type such as image/png');

/** At most this many files on one message. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** What a message carries about each of its files; the download URL is asked for separately. */
export interface AttachmentRef {
  attachmentId: string;
  fileName: string;
  contentType: string;
  size: number;
}

export type AttachmentStatus = 'pending' | 'attached';

/** An attachment's record: who uploaded what, for where, and to which message it belongs. */
export interface AttachmentRecord extends AttachmentRef {
  ownerId: string;
  /** The storage partition it may be attached in: a room name, or `dm#<conversationId>`. */
  place: string;
  status: AttachmentStatus;
  createdAt: string;
  /** Set once attached. */
  messageId?: string;
  /** Epoch seconds: a day after the upload was asked for, then the message's expiry. */
  expiresAt: number;
}

/** The limits a deployment sets (AttachmentMaxBytes, AttachmentAllowedTypes, AttachmentQuotaBytesPerDay). */
export interface AttachmentLimits {
  maxBytes: number;
  allowedTypes: readonly string[];
  quotaBytesPerDay: number;
}

/** Where the presigned PUT writes: the staging prefix the bucket's lifecycle empties after a day. */
export const uploadKey = (attachmentId: string) => `uploads/${attachmentId}`;
/** The server's copy members download, written when the file is attached to a message. */
export const attachedKey = (attachmentId: string) => `attachments/${attachmentId}`;

/** An unattached upload's record (and its staging object) lives a day. */
export const PENDING_UPLOAD_SECONDS = 24 * 60 * 60;
/** A presigned PUT is valid this long; a presigned GET as long. */
export const UPLOAD_URL_SECONDS = 300;
export const DOWNLOAD_URL_SECONDS = 300;

export const newAttachmentId = () => randomUUID();

/** The UTC day a quota counter counts (`2026-12-03`). */
export const quotaDay = (now: Date) => now.toISOString().slice(0, 10);
