// frames.ts, the only file left in this folder, imports the message type from its old neighbour.
export type { ChatMessage } from '../core/domain/message.js';
