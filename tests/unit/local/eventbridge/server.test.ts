import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalEventBridge } from '../../../../local/eventbridge/server.js';
import type {
  EventBridgeEvent,
  LocalEventBridge,
  LocalRule,
  LocalTarget,
} from '../../../../local/eventbridge/types.js';

const ACCOUNT = '123456789012';
const SOURCE = 'switchboard.messaging';
const BUS = 'switchboard';

interface Delivery {
  target: LocalTarget;
  input: unknown;
  rule: LocalRule;
  event: EventBridgeEvent;
}

interface DeadLetter {
  target: LocalTarget;
  event: EventBridgeEvent;
  error: Error;
  attempts: number;
}

const rules: LocalRule[] = [
  {
    name: 'deliverable',
    eventBusName: BUS,
    eventPattern: { source: [SOURCE], 'detail-type': ['MessagePosted', 'PresenceChanged'] },
    targets: [{ id: 'distribution', arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:distribution' }],
  },
  {
    name: 'disabled-copy',
    eventBusName: BUS,
    eventPattern: { source: [SOURCE], 'detail-type': ['MessagePosted'] },
    state: 'DISABLED',
    targets: [{ id: 'never', arn: 'arn:aws:lambda:us-east-1:123456789012:function:never' }],
  },
  {
    name: 'connection-opened',
    eventBusName: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${BUS}`,
    eventPattern: { source: [SOURCE], 'detail-type': ['ConnectionOpened'] },
    targets: [
      { id: 'session-start', arn: 'arn:aws:lambda:us-east-1:123456789012:function:session', inputPath: '$.detail' },
      { id: 'constant', arn: 'arn:aws:lambda:us-east-1:123456789012:function:constant', input: '{"kind":"hello"}' },
    ],
  },
  {
    name: 'flaky',
    eventBusName: BUS,
    eventPattern: { 'detail-type': ['Flaky'] },
    targets: [
      {
        id: 'flaky-target',
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:flaky',
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
        deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:flaky-dlq',
      },
    ],
  },
  {
    name: 'doomed',
    eventBusName: BUS,
    eventPattern: { 'detail-type': ['Doomed'] },
    targets: [
      {
        id: 'doomed-target',
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:doomed',
        retryPolicy: { maximumRetryAttempts: 1, maximumEventAgeInSeconds: 60 },
      },
    ],
  },
  {
    name: 'rejecting',
    eventBusName: BUS,
    eventPattern: { 'detail-type': ['Rejected'] },
    targets: [
      {
        id: 'rejecting-target',
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:rejecting',
        deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:rejecting-dlq',
      },
    ],
  },
];

let bridge: LocalEventBridge;
let client: EventBridgeClient;
const deliveries: Delivery[] = [];
const deadLetters: DeadLetter[] = [];
const logs: string[] = [];
let flakyFailuresLeft = 0;

beforeAll(async () => {
  bridge = await startLocalEventBridge({
    port: 0,
    accountId: ACCOUNT,
    buses: [BUS],
    rules,
    retryBaseDelayMs: 5,
    logger: (msg) => logs.push(msg),
    onDeadLetter: (target, event, error, attempts) => deadLetters.push({ target, event, error, attempts }),
    deliver: async (target, input, rule, event) => {
      deliveries.push({ target, input, rule, event });
      if (target.id === 'flaky-target' && flakyFailuresLeft-- > 0) throw new Error('target unavailable');
      if (target.id === 'doomed-target') throw new Error('always down');
      if (target.id === 'rejecting-target') throw Object.assign(new Error('no such function'), { retryable: false });
    },
  });
  client = new EventBridgeClient({
    endpoint: bridge.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client?.destroy();
  await bridge?.close();
});

beforeEach(() => {
  deliveries.length = 0;
  deadLetters.length = 0;
  logs.length = 0;
  flakyFailuresLeft = 0;
});

function entry(detailType: string, detail: object = {}, extra: Partial<PutEventsRequestEntry> = {}) {
  return { Source: SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: BUS, ...extra };
}

async function put(...entries: PutEventsRequestEntry[]) {
  const result = await client.send(new PutEventsCommand({ Entries: entries }));
  await bridge.idle();
  return result;
}

describe('PutEvents routing', () => {
  it('delivers a matching event to its target with the full envelope', async () => {
    const detail = { version: 1, now: 1767323045, deliveries: [{ topic: 'room#lobby', frame: { t: 'msg' } }] };
    const time = new Date('2026-01-02T03:04:05.678Z');
    const result = await put(
      entry('MessagePosted', detail, { Time: time, Resources: ['arn:aws:dynamodb:us-east-1:1:table/Messages'] }),
    );

    expect(result.FailedEntryCount).toBe(0);
    const eventId = result.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(deliveries).toHaveLength(1);
    const [delivery] = deliveries;
    expect(delivery?.target.id).toBe('distribution');
    expect(delivery?.rule.name).toBe('deliverable');
    expect(delivery?.event).toEqual({
      version: '0',
      id: eventId,
      'detail-type': 'MessagePosted',
      source: SOURCE,
      account: ACCOUNT,
      time: '2026-01-02T03:04:05Z',
      region: 'us-east-1',
      resources: ['arn:aws:dynamodb:us-east-1:1:table/Messages'],
      detail,
    });
    expect(delivery?.input).toEqual(delivery?.event);
  });

  it('stamps events without Time with the time they were received', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    await put(entry('PresenceChanged'));
    const time = Date.parse(deliveries[0]?.event.time ?? '');
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
    expect(deliveries[0]?.event.resources).toEqual([]);
  });

  it('does not deliver an event no enabled rule matches', async () => {
    const before = bridge.stats();
    const result = await put(entry('MessageDeleted'), { ...entry('MessagePosted'), Source: 'someone.else' });
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries?.every((e) => typeof e.EventId === 'string')).toBe(true);
    expect(deliveries).toEqual([]);
    expect(bridge.stats().matched).toBe(before.matched);
  });

  it('applies InputPath and Input per target', async () => {
    const detail = { version: 1, connectionId: 'c1', userId: 'u1', userName: 'Ann', rooms: ['lobby'] };
    await put(entry('ConnectionOpened', detail));
    const byTarget = Object.fromEntries(deliveries.map((d) => [d.target.id, d]));
    expect(byTarget['session-start']?.input).toEqual(detail);
    expect(byTarget['session-start']?.event.detail).toEqual(detail);
    expect(byTarget.constant?.input).toEqual({ kind: 'hello' });
  });

  it('accepts a bus given by ARN', async () => {
    const result = await put(
      entry('MessagePosted', {}, { EventBusName: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${BUS}` }),
    );
    expect(result.FailedEntryCount).toBe(0);
    expect(deliveries.map((d) => d.rule.name)).toEqual(['deliverable']);
  });

  it('accepts, like AWS, an event for a bus that does not exist, and routes it nowhere', async () => {
    const before = bridge.stats().unknownBus;
    const result = await put(entry('MessagePosted', {}, { EventBusName: 'no-such-bus' }));
    expect(result.FailedEntryCount).toBe(0);
    expect(deliveries).toEqual([]);
    expect(bridge.stats().unknownBus).toBe(before + 1);
    expect(logs.some((l) => l.includes('does not exist'))).toBe(true);
  });
});

describe('PutEvents validation', () => {
  it('rejects more than 10 entries with ValidationException', async () => {
    const entries = Array.from({ length: 11 }, () => entry('MessagePosted'));
    const error = await client.send(new PutEventsCommand({ Entries: entries })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toMatch(/less than or equal to 10/);
    await bridge.idle();
    expect(deliveries).toEqual([]);
  });

  it('rejects entries totalling more than 1 MB with ValidationException', async () => {
    const big = 'x'.repeat(600 * 1024);
    const error = await client
      .send(new PutEventsCommand({ Entries: [entry('MessagePosted', { big }), entry('MessagePosted', { big })] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
    expect((error as Error).message).toMatch(/over the limit/);
  });

  it('fails bad entries one by one and counts them', async () => {
    const result = await put(
      entry('MessagePosted'),
      { Source: SOURCE, Detail: '{}', EventBusName: BUS },
      { ...entry('MessagePosted'), Detail: '{not json' },
      { ...entry('MessagePosted'), Detail: '[1,2]' },
      { ...entry('MessagePosted'), Source: 'aws.ec2' },
    );
    expect(result.FailedEntryCount).toBe(4);
    expect(result.Entries?.[0]?.EventId).toBeTypeOf('string');
    expect(result.Entries?.slice(1).map((e) => e.ErrorCode)).toEqual([
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'NotAuthorizedForSourceException',
    ]);
    expect(result.Entries?.[1]?.ErrorMessage).toBe(
      'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
    );
    expect(result.Entries?.[1]?.EventId).toBeUndefined();
    expect(deliveries).toHaveLength(1);
  });
});

describe('retries and dead letters', () => {
  it('retries a failing delivery, then succeeds', async () => {
    flakyFailuresLeft = 1;
    const before = bridge.stats();
    await put(entry('Flaky'));
    expect(deliveries.map((d) => d.target.id)).toEqual(['flaky-target', 'flaky-target']);
    expect(deadLetters).toEqual([]);
    const after = bridge.stats();
    expect(after.retried - before.retried).toBe(1);
    expect(after.delivered - before.delivered).toBe(1);
  });

  it('dead-letters a delivery once the retry policy is exhausted', async () => {
    flakyFailuresLeft = 100;
    const before = bridge.stats();
    const result = await put(entry('Flaky', { n: 1 }));
    // One attempt plus maximumRetryAttempts (2) retries.
    expect(deliveries).toHaveLength(3);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.attempts).toBe(3);
    expect(deadLetters[0]?.error.message).toBe('target unavailable');
    expect(deadLetters[0]?.target.deadLetterArn).toBe('arn:aws:sqs:us-east-1:123456789012:flaky-dlq');
    expect(deadLetters[0]?.event.id).toBe(result.Entries?.[0]?.EventId);
    const after = bridge.stats();
    expect(after.retried - before.retried).toBe(2);
    expect(after.deadLettered - before.deadLettered).toBe(1);
  });

  it('drops (and logs) a delivery with no dead-letter queue', async () => {
    const before = bridge.stats().dropped;
    await put(entry('Doomed'));
    expect(deliveries).toHaveLength(2);
    expect(bridge.stats().dropped).toBe(before + 1);
    expect(logs.some((l) => l.includes('dropped'))).toBe(true);
  });

  it('does not retry an error marked retryable: false', async () => {
    await put(entry('Rejected'));
    expect(deliveries).toHaveLength(1);
    expect(deadLetters.map((d) => d.attempts)).toEqual([1]);
  });
});

describe('other operations', () => {
  it('answers DescribeRule, ListRules and ListTargetsByRule from the configured rules', async () => {
    const rule = await client.send(new DescribeRuleCommand({ Name: 'disabled-copy', EventBusName: BUS }));
    expect(rule).toMatchObject({ Name: 'disabled-copy', State: 'DISABLED', EventBusName: BUS });
    expect(rule.Arn).toBe(`arn:aws:events:us-east-1:${ACCOUNT}:rule/${BUS}/disabled-copy`);
    expect(JSON.parse(rule.EventPattern ?? '')).toEqual(rules[1]?.eventPattern);

    const list = await client.send(new ListRulesCommand({ EventBusName: BUS, NamePrefix: 'd' }));
    expect(list.Rules?.map((r) => r.Name)).toEqual(['deliverable', 'disabled-copy', 'doomed']);

    const targets = await client.send(new ListTargetsByRuleCommand({ Rule: 'flaky', EventBusName: BUS }));
    expect(targets.Targets?.[0]).toMatchObject({
      Id: 'flaky-target',
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
      DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:flaky-dlq' },
    });

    const missing = await client.send(new DescribeRuleCommand({ Name: 'nope', EventBusName: BUS })).catch((e) => e);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('answers TestEventPattern with the same matcher', async () => {
    const event = JSON.stringify({
      id: '1',
      account: ACCOUNT,
      source: SOURCE,
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [],
      'detail-type': 'MessagePosted',
      detail: { n: 5 },
    });
    const yes = await client.send(
      new TestEventPatternCommand({ EventPattern: '{"detail":{"n":[{"numeric":[">",1]}]}}', Event: event }),
    );
    expect(yes.Result).toBe(true);
    const no = await client.send(new TestEventPatternCommand({ EventPattern: '{"source":["other"]}', Event: event }));
    expect(no.Result).toBe(false);
    const bad = await client
      .send(new TestEventPatternCommand({ EventPattern: '{"source":"other"}', Event: event }))
      .catch((e) => e);
    expect(bad).toMatchObject({ name: 'InvalidEventPatternException' });
  });

  it('answers an unknown operation with UnknownOperationException', async () => {
    const error = await client.send(new ListArchivesCommand({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
  });
});

describe('endpoint from the environment', () => {
  it('serves a client configured only by AWS_ENDPOINT_URL_EVENTBRIDGE', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bridge.url;
    const envClient = new EventBridgeClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const result = await envClient.send(new PutEventsCommand({ Entries: [entry('MessagePosted')] }));
      await bridge.idle();
      expect(result.FailedEntryCount).toBe(0);
      expect(deliveries.map((d) => d.target.id)).toEqual(['distribution']);
    } finally {
      envClient.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
      else process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = saved;
    }
  });
});

describe('startup checks', () => {
  const deliver = async () => {};

  it('refuses a malformed pattern', async () => {
    await expect(
      startLocalEventBridge({
        port: 0,
        buses: [],
        deliver,
        rules: [{ name: 'bad', eventBusName: 'default', eventPattern: { source: 'x' }, targets: [] }],
      }),
    ).rejects.toThrow(/rule bad: .*must be an object or an array/);
  });

  it('refuses a rule on an unknown bus, and Input with InputPath', async () => {
    await expect(
      startLocalEventBridge({
        port: 0,
        buses: [],
        deliver,
        rules: [{ name: 'r', eventBusName: 'nowhere', eventPattern: { source: ['x'] }, targets: [] }],
      }),
    ).rejects.toThrow(/not among the buses/);
    await expect(
      startLocalEventBridge({
        port: 0,
        buses: [],
        deliver,
        rules: [
          {
            name: 'r',
            eventBusName: 'default',
            eventPattern: { source: ['x'] },
            targets: [{ id: 't', arn: 'arn', input: '{}', inputPath: '$.detail' }],
          },
        ],
      }),
    ).rejects.toThrow(/mutually exclusive/);
  });
});
