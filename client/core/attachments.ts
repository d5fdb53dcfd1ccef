import type { ClientFrame } from '#protocol/client-frames';
import type { AttachmentFrame, ServerFrame, UploadFrame } from '#protocol/server-frames';
import type { ChatEvent, ChatSnapshot } from './chat-types.js';

/** A file a UI picked: a browser File, or bytes the terminal read from disk. */
export interface PickedFile {
  name: string;
  type: string;
  size: number;
  body: Blob | Uint8Array<ArrayBuffer>;
}

/** The part of `fetch` a PUT to a presigned URL needs, given by the runtime. */
export type HttpPut = (
  url: string,
  init: { method: 'PUT'; headers: Record<string, string>; body: Blob | Uint8Array<ArrayBuffer> },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** What the attachments need of the chat client: its frames, its state and a raw send. */
export interface AttachmentChat {
  sendFrame(frame: ClientFrame): boolean;
  subscribe(listener: (event: ChatEvent) => void): () => void;
  snapshot(): ChatSnapshot;
}

export interface AttachmentDeps {
  put: HttpPut;
  /** GET /attachments/{id} over the REST client (a request with its own answer). */
  attachment(attachmentId: string): Promise<AttachmentFrame>;
  newMessageId(): string;
  now?(): number;
}

export class AttachmentError extends Error {
  override name = 'AttachmentError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The error codes requestUpload answers with (its reply carries no id, so requests go one at a time). */
const UPLOAD_REFUSALS = new Set([
  'unsupported_type',
  'payload_too_large',
  'forbidden',
  'quota_exceeded',
  'validation_failed',
  'rate_limited',
]);

/** S3's `<Code>` in an XML error body. */
const s3Code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

/**
 * Sending and fetching files, for both UIs: ask for an upload URL, PUT the bytes to S3, send a
 * message that names the file, and fetch members' download URLs (cached until shortly before they
 * expire). Uploads go one at a time, because requestUpload's reply is matched by order.
 */
export class Attachments {
  readonly #chat: AttachmentChat;
  readonly #deps: AttachmentDeps;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #links = new Map<string, { url: string; expiresAt: number }>();

  constructor(chat: AttachmentChat, deps: AttachmentDeps) {
    this.#chat = chat;
    this.#deps = deps;
  }

  /** Uploads a file and sends it to the active room or conversation, with `caption` as its text. */
  sendFile(file: PickedFile, caption = file.name): Promise<{ attachmentId: string; messageId: string }> {
    const run = this.#queue.then(() => this.#sendFile(file, caption));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** A download URL for a file on a message; reused until a minute before it expires. */
  async downloadUrl(attachmentId: string): Promise<string> {
    const now = this.#deps.now?.() ?? Date.now();
    const cached = this.#links.get(attachmentId);
    if (cached && cached.expiresAt - 60_000 > now) return cached.url;
    const frame = await this.#deps.attachment(attachmentId);
    this.#links.set(attachmentId, { url: frame.url, expiresAt: Date.parse(frame.expiresAt) });
    return frame.url;
  }

  async #sendFile(file: PickedFile, caption: string) {
    const thread = this.#chat.snapshot().activeThread;
    if (!thread) throw new AttachmentError('no_thread', 'Open a room or a conversation first.');
    if (thread.kind === 'dm' && !thread.conversationId) {
      throw new AttachmentError('no_conversation', 'Send a first message, then files.');
    }
    const place = thread.kind === 'room' ? { room: thread.name } : { conversationId: String(thread.conversationId) };
    const upload = await this.#request<UploadFrame>(
      { action: 'requestUpload', ...place, fileName: file.name, contentType: file.type, size: file.size },
      (frame) => frame.type === 'upload',
      (frame) => frame.type === 'error' && frame.messageId === undefined && UPLOAD_REFUSALS.has(frame.code),
    );
    const answer = await this.#deps.put(upload.url, { method: 'PUT', headers: upload.headers, body: file.body });
    if (!answer.ok) {
      const code = s3Code(await answer.text().catch(() => '')) ?? `http_${answer.status}`;
      throw new AttachmentError('upload_refused', `The upload was refused (${code}).`);
    }
    const messageId = this.#deps.newMessageId();
    const attachments = [upload.attachmentId];
    const frame: ClientFrame =
      thread.kind === 'room'
        ? { action: 'sendMessage', room: thread.name, message: caption, messageId, attachments }
        : {
            action: 'sendMessage',
            recipientId: thread.name,
            conversationId: String(thread.conversationId),
            content: caption,
            messageId,
            attachments,
          };
    await this.#request(
      frame,
      (reply) => reply.type === 'ack' && reply.messageId === messageId,
      (reply) => reply.type === 'error' && reply.messageId === messageId,
    );
    return { attachmentId: upload.attachmentId, messageId };
  }

  /** Sends a frame and resolves with the first frame `isReply` accepts; rejects on one `isRefusal` accepts. */
  #request<T extends ServerFrame>(
    frame: ClientFrame,
    isReply: (frame: ServerFrame) => boolean,
    isRefusal: (frame: ServerFrame & { type: 'error' }) => boolean,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const stop = this.#chat.subscribe((event) => {
        // A reply lost with the connection never comes: say so rather than wait forever.
        if (event.type === 'connection' && event.state.state !== 'open') {
          stop();
          reject(new AttachmentError('offline', 'The connection dropped; send the file again.'));
          return;
        }
        if (event.type !== 'frame' || !event.frame) return;
        const reply = event.frame;
        if (isReply(reply)) {
          stop();
          resolve(reply as T);
        } else if (reply.type === 'error' && isRefusal(reply)) {
          stop();
          reject(new AttachmentError(reply.code, reply.message));
        }
      });
      if (!this.#chat.sendFrame(frame)) {
        stop();
        reject(new AttachmentError('offline', 'Not connected: try again once the connection is back.'));
      }
    });
  }
}
