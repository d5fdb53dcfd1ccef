import { AttachmentError, Attachments } from '#client-core/attachments';
import { ChatClient } from '#client-core/chat-client';
import type { RestClient } from '#client-core/rest-client';
import type { Auth, Session } from './auth.js';
import type { AppConfig } from './config.js';
import { ChatView } from './view.js';

/** Message ids from getRandomValues: randomUUID needs a secure context, and a LAN demo may not be one. */
function newMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The browser shell: binds the UI-free ChatClient to the browser (WebSocket, localStorage, tab
 * visibility, the network, Cognito tokens) and to ChatView, which renders its snapshots.
 */
export class ChatApp {
  readonly #client: ChatClient;
  readonly #view: ChatView;
  readonly #abort = new AbortController();
  readonly #unsubscribe: () => void;
  #lastForcedRefresh = 0;
  #renderQueued = false;

  constructor(config: AppConfig, auth: Auth, rest: RestClient, session: Session, onSignOut: () => void) {
    const signOut = () => {
      this.stop();
      auth.signOut();
      onSignOut();
    };
    this.#client = new ChatClient({
      me: session,
      rest,
      storage: localStorage,
      WebSocket,
      webSocketUrl: async (rooms) => {
        const params = new URLSearchParams(await auth.webSocketParams());
        if (rooms.length > 0) params.set('room', rooms.join(','));
        return `${config.webSocketUrl}?${params}`;
      },
      newMessageId,
      isVisible: () => document.visibilityState === 'visible',
      isNetworkUp: () => navigator.onLine,
      onFailedAttempt: async (): Promise<'retry'> => {
        // A browser cannot see why a handshake failed; a token the server no longer accepts is the one
        // cause we can fix. At most one refresh per five minutes, so an outage does not hammer Cognito.
        if (config.authMode !== 'cognito' || Date.now() - this.#lastForcedRefresh < 5 * 60_000) return 'retry';
        this.#lastForcedRefresh = Date.now();
        await auth.refresh().catch(() => undefined);
        if (!auth.session) signOut();
        return 'retry';
      },
    });
    const client = this.#client;
    const attachments = new Attachments(client, {
      put: (url, init) => fetch(url, init),
      attachment: (attachmentId) => rest.attachment(attachmentId),
      newMessageId,
    });
    this.#view = new ChatView({
      selectThread: (key) => client.selectThread(key),
      send: (text) => client.send(text),
      joinRoom: (room) => client.joinRoom(room),
      leaveRoom: (room) => client.leaveRoom(room),
      openDirect: (peerId, peerName) => client.openDirect(peerId, peerName),
      loadOlder: () => void client.loadOlder(),
      retry: (messageId) => client.retry(messageId),
      deleteMessage: (messageId) => client.deleteMessage(messageId),
      editMessage: (messageId, text) => client.editMessage(messageId, text),
      toggleReaction: (messageId, emoji) => client.toggleReaction(messageId, emoji),
      lastOwnMessage: () => client.lastOwnMessage(),
      dismissError: () => client.dismissError(),
      signOut,
      rooms: {
        createPrivateRoom: (title) => client.rooms.createPrivate(title),
        invite: (room, userId) => client.rooms.invite(room, userId),
        kick: (room, userId) => client.rooms.kick(room, userId),
        ban: (room, userId, minutes) => client.rooms.ban(room, userId, minutes),
        unban: (room, userId) => client.rooms.unban(room, userId),
        setRole: (room, userId, role) => client.rooms.setRole(room, userId, role),
        quit: (room) => client.rooms.quit(room),
        deleteRoom: (room) => client.rooms.deleteRoom(room),
      },
      visible: () => client.visible(),
      typing: () => client.typing(),
      files: {
        sendFiles: async (files) => {
          try {
            for (const file of files) {
              await attachments.sendFile({ name: file.name, type: file.type, size: file.size, body: file });
            }
            return undefined;
          } catch (error) {
            return error instanceof AttachmentError ? error.message : `Upload failed: ${(error as Error).message}`;
          }
        },
        downloadUrl: (attachmentId) => attachments.downloadUrl(attachmentId),
      },
    });
    this.#unsubscribe = client.subscribe((event) => {
      if (event.type === 'thread-selected') this.#view.threadChanged();
      this.#scheduleRender();
    });
  }

  start(): void {
    const signal = this.#abort.signal;
    window.addEventListener('online', () => this.#client.networkChanged(true), { signal });
    window.addEventListener('offline', () => this.#client.networkChanged(false), { signal });
    this.#view.mount();
    this.#client.start();
  }

  stop(): void {
    // A stopped chat renders nothing more: the next sign-in's chat owns the page.
    this.#unsubscribe();
    this.#abort.abort();
    void this.#client.stop();
    this.#view.unmount();
  }

  /** One render per task, however many changes arrived: the client's change events are already coalesced. */
  #scheduleRender(): void {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    queueMicrotask(() => {
      this.#renderQueued = false;
      this.#view.render(this.#client.snapshot());
    });
  }
}
