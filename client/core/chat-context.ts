import type { ClientFrame } from '#protocol/client-frames';
import type { ChatClientDeps, ChatEvent, ChatIdentity } from './chat-types.js';
import type { ThreadStore } from './thread-store.js';

/** What the parts of the client share; ChatClient builds one and hands it to each. */
export interface ChatContext {
  readonly deps: ChatClientDeps;
  readonly threads: ThreadStore;
  me(): ChatIdentity;
  activeKey(): string;
  visible(): boolean;
  send(frame: ClientFrame): boolean;
  changed(): void;
  emit(event: ChatEvent): void;
  showError(code: string, message: string): void;
}
