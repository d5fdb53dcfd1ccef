import { createConnectionNotifier } from '#aws/adapters/connection-notifier';
import { createEventPublisher } from '#aws/adapters/event-publisher';
import { createPresenceReader } from '#aws/adapters/presence-reader';
import { dynamoDb } from '#aws/clients/dynamodb';
import { eventBridge } from '#aws/clients/eventbridge';
import { managementApi } from '#aws/clients/management-api';
import { eventBusName, managementApiEndpoint, tables } from '#aws/config';
import { createConnectionStore } from '#db/connections-store';
import { createConversationStore } from '#db/conversations-store';
import { createMessageStore } from '#db/messages-store';
import { createSubscriptionStore } from '#db/subscriptions-store';

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
