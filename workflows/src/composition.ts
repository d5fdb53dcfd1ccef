import { createConnectionNotifier } from '#aws/adapters/connection-notifier';
import { createEventPublisher } from '#aws/adapters/event-publisher';
import { createPresenceReader } from '#aws/adapters/presence-reader';
import { connectionsPoster } from '#aws/clients/connections-poster';
import { dynamoDb } from '#aws/clients/dynamodb';
import { eventBridge } from '#aws/clients/eventbridge';
import {
  deliveryFailureRetentionSeconds,
  eventBusName,
  managementApiEndpoint,
  messageRetentionDays,
  numberFromEnv,
  tables,
} from '#aws/config';
import { epochSeconds } from '#core/domain/time';
import type {
  ConnectionNotifier,
  ConnectionStore,
  DistributionPublisher,
  EventPublisher,
  MessageStore,
  PresenceReader,
  ReadPositionStore,
  SubscriptionStore,
} from '#core/ports';
import type { InputsOf } from '#core/use-case';
import * as announcing from '#core/use-cases/announce-status';
import * as metrics from '#core/use-cases/broadcast-metrics';
import { dropGoneConnection } from '#core/use-cases/close-connection';
import * as delivery from '#core/use-cases/deliver-batch';
import * as echoing from '#core/use-cases/echo-message';
import * as sessions from '#core/use-cases/start-session';
import { createConnectionStore } from '#db/connections-store';
import { createDeliveryFailureStore } from '#db/delivery-failures-store';
import { createMessageStore } from '#db/messages-store';
import { createReadPositionStore } from '#db/read-positions-store';
import { createSubscriptionStore } from '#db/subscriptions-store';

/*
 * The workflow functions' composition root: every use case they run, bound to the production
 * adapters. Adapters are built on first use and kept for the container's life. Everything here is
 * a plain declaration, so esbuild keeps only what a function's handler reaches.
 */

let connectionStore: ConnectionStore | undefined;
let subscriptionStore: SubscriptionStore | undefined;
let messageStore: MessageStore | undefined;
let publisher: (EventPublisher & DistributionPublisher) | undefined;
let connectionNotifier: ConnectionNotifier | undefined;
let presenceReader: PresenceReader | undefined;
let failureStore: ReturnType<typeof createDeliveryFailureStore> | undefined;

const connections = () => (connectionStore ??= createConnectionStore(dynamoDb(), tables.connections()));
const subscriptions = () => (subscriptionStore ??= createSubscriptionStore(dynamoDb(), tables.subscriptions()));
const messages = () => (messageStore ??= createMessageStore(dynamoDb(), tables.messages()));
const events = () => (publisher ??= createEventPublisher(eventBridge(), eventBusName()));
const notifier = () => (connectionNotifier ??= createConnectionNotifier(connectionsPoster(managementApiEndpoint())));
const presence = () => (presenceReader ??= createPresenceReader(subscriptions()));
const deliveryFailures = () =>
  (failureStore ??= createDeliveryFailureStore(
    dynamoDb(),
    tables.deliveryFailures(),
    deliveryFailureRetentionSeconds(),
  ));

/** A post answered 410: drop that connection (unless it is still connecting) and announce it. */
const dropGone = async (connectionId: string) => {
  await dropGoneConnection(connectionId, {
    connections: connections(),
    subscriptions: subscriptions(),
    events: events(),
  });
};

// PostToConnectionsFunction
/**
 * Posts one frame to a batch of connections (POST_CONCURRENCY at a time). Gone connections are
 * dropped; those that still fail after the SDK's retries are recorded in DeliveryFailures, labelled.
 */
export const deliverBatch = (input: delivery.DeliverBatchInput, label: { topic?: string; messageId?: string }) =>
  delivery.deliverBatch(input, {
    notifier: notifier(),
    messages: messages(),
    concurrency: numberFromEnv('POST_CONCURRENCY', 32),
    onGone: dropGone,
    onFailed: (connectionIds) =>
      deliveryFailures().record({ ...label, connectionIds, error: 'postToConnection failed after retries' }),
  });

// SessionStartFunction
let readPositionStore: ReadPositionStore | undefined;
const readPositions = () => (readPositionStore ??= createReadPositionStore(dynamoDb(), tables.messages()));
export const startSession = (...args: InputsOf<typeof sessions.startSession>) =>
  sessions.startSession(...args, {
    connections: connections(),
    messages: messages(),
    notifier: notifier(),
    presence: presence(),
    events: events(),
    readPositions: readPositions(),
  });

// MessagesStreamFunction
export const echoMessage = (...args: InputsOf<typeof echoing.echoMessage>) =>
  echoing.echoMessage(...args, {
    messages: messages(),
    readPositions: readPositions(),
    events: events(),
    retentionDays: messageRetentionDays(),
  });
export const announceStatusChange = (...args: InputsOf<typeof announcing.announceStatusChange>) =>
  announcing.announceStatusChange(...args, { events: events() });

// MetricsStreamFunction
export const broadcastMetrics = (...args: InputsOf<typeof metrics.broadcastMetrics>) =>
  metrics.broadcastMetrics(...args, {
    subscriptions: subscriptions(),
    notifier: notifier(),
    nowSeconds: epochSeconds(),
    onGone: dropGone,
  });
