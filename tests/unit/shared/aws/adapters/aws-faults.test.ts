import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnectionNotifier } from '#aws/adapters/connection-notifier';
import { createEventPublisher, PublishFailedError } from '#aws/adapters/event-publisher';
import { type ConnectionsPoster, PostToConnectionError } from '#aws/clients/connections-poster';

const eventBridge = mockClient(EventBridgeClient);

afterEach(() => {
  eventBridge.reset();
});

describe('connection notifier faults', () => {
  /** A poster that fails the way connections-poster.ts does, by name. */
  const failing = (name: string, status: number): ConnectionsPoster => ({
    async post() {
      throw new PostToConnectionError(name, status, 3);
    },
  });

  it('reports 410 GoneException as gone', async () => {
    expect(await createConnectionNotifier(failing('GoneException', 410)).post('c1', { type: 'x' })).toBe('gone');
  });

  it('reports a throttle or server error that outlived the retries as failed, without throwing', async () => {
    const notifier = createConnectionNotifier(failing('LimitExceededException', 429));
    expect(await notifier.post('c1', { type: 'x' })).toBe('failed');
    const broken = createConnectionNotifier(failing('InternalServerErrorException', 500));
    expect(await broken.post('c1', { type: 'x' })).toBe('failed');
  });

  it('sends the frame as JSON', async () => {
    const calls: Array<[string, string]> = [];
    const notifier = createConnectionNotifier({
      async post(connectionId, data) {
        calls.push([connectionId, data]);
      },
    });
    expect(await notifier.post('c1', { type: 'pong' })).toBe('delivered');
    expect(calls).toEqual([['c1', '{"type":"pong"}']]);
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
