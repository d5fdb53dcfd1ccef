import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnectionNotifier } from '#aws/adapters/connection-notifier';
import { createEventPublisher, PublishFailedError } from '#aws/adapters/event-publisher';

const management = mockClient(ApiGatewayManagementApiClient);
const eventBridge = mockClient(EventBridgeClient);

afterEach(() => {
  management.reset();
  eventBridge.reset();
});

describe('connection notifier faults', () => {
  const notifier = () =>
    createConnectionNotifier(new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: 'http://localhost' }));

  it('reports 410 GoneException as gone', async () => {
    management.on(PostToConnectionCommand).rejects(new GoneException({ message: 'gone', $metadata: {} }));
    expect(await notifier().post('c1', { type: 'x' })).toBe('gone');
  });

  it('reports a throttle or server error that outlived the retries as failed, without throwing', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'LimitExceededException',
      $metadata: { httpStatusCode: 429 },
    });
    management.on(PostToConnectionCommand).rejects(throttled);
    expect(await notifier().post('c1', { type: 'x' })).toBe('failed');
  });

  it('sends the frame as JSON', async () => {
    management.on(PostToConnectionCommand).resolves({});
    expect(await notifier().post('c1', { type: 'pong' })).toBe('delivered');
    expect(management.commandCalls(PostToConnectionCommand)[0]?.args[0].input).toEqual({
      ConnectionId: 'c1',
      Data: '{"type":"pong"}',
    });
  });
});

describe('event publisher faults', () => {
  const publisher = () => createEventPublisher(new EventBridgeClient({ region: 'us-east-1' }), 'bus');

  it('throws when EventBridge rejects the entry, so the caller can retry', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    await expect(publisher().publish('MessagePosted', {})).rejects.toBeInstanceOf(PublishFailedError);
  });

  it('publishes nothing for an empty delivery list', async () => {
    await publisher().distribute('PresenceChanged', []);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('stamps distributable events with the publish time in epoch seconds', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    await publisher().distribute('MessagePosted', [{ topic: 'room#a', frame: { type: 'message' } }]);
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    const detail = JSON.parse(String(entry?.Detail));
    expect(entry).toMatchObject({ EventBusName: 'bus', Source: 'switchboard.messaging', DetailType: 'MessagePosted' });
    expect(Math.abs(detail.now - Date.now() / 1000)).toBeLessThan(60);
  });
});
