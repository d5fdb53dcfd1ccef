import { createConnectionStore } from '../../db/src/connections-store.js';
import { createConversationStore } from '../../db/src/conversations-store.js';
import { createMessageStore } from '../../db/src/messages-store.js';
import { createSubscriptionStore } from '../../db/src/subscriptions-store.js';
import { createConnectionNotifier } from './adapters/connection-notifier.js';
import { createEventPublisher } from './adapters/event-publisher.js';
import { createPresenceReader } from './adapters/presence-reader.js';
import { dynamoDb } from './clients/dynamodb.js';
import { eventBridge } from './clients/eventbridge.js';
import { managementApi } from './clients/management-api.js';
import { eventBusName, managementApiEndpoint, tables } from './config.js';

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

const subscriptions = once(() => createSubscriptionStore(dynamoDb(), tables.subscriptions()));

/**
 * The production adapters, each built on first use and kept for the container's life. Handlers
 * pass these to use cases; tests pass their own.
 */
export const adapters = {
  connections: once(() => createConnectionStore(dynamoDb(), tables.connections())),
  subscriptions,
  messages: once(() => createMessageStore(dynamoDb(), tables.messages())),
  conversations: once(() => createConversationStore(dynamoDb(), tables.conversations())),
  events: once(() => createEventPublisher(eventBridge(), eventBusName())),
  notifier: once(() => createConnectionNotifier(managementApi(managementApiEndpoint()))),
  presence: once(() => createPresenceReader(subscriptions())),
};
