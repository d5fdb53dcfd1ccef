import { connectionOpened } from './connection-opened.js';
import { messagePosted } from './message-posted.js';
import { messageStatusChanged } from './message-status-changed.js';
import { presenceChanged } from './presence-changed.js';

/** Every event type published on the bus, for contract tests against the templates' rules. */
export const allEvents = [messagePosted, presenceChanged, messageStatusChanged, connectionOpened] as const;

export { connectionOpened, messagePosted, messageStatusChanged, presenceChanged };
