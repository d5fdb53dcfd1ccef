import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEventBridge, startLocalEventBridge } from '../../local/eventbridge/server.js';
import type { LocalTarget } from '../../local/eventbridge/types.js';
import type { AsyncInvocationRecord } from '../../local/lambda/destinations.js';
import { type LambdaService, startLambdaService } from '../../local/lambda/service.js';
import { deliverToTarget } from '../../local/stack.js';
import { type LocalFunction, loadLocalFunctions } from '../../local/stack-model.js';

// EventBridge → Lambda as the stack wires it (deliverToTarget): the local EventBridge and the
// Lambda service with the fixture template's functions.
const TEMPLATE = resolve(import.meta.dirname, '../fixtures/lambda/template.yaml');
const DLQ = 'arn:aws:sqs:us-east-1:000000000000:rule-dlq';

let functions: LocalFunction[];
let service: LambdaService;
let bridge: LocalEventBridge;
let client: EventBridgeClient;
let scratch: string;
const destinationRecords: AsyncInvocationRecord[] = [];
const deadLettered: Array<{ target: LocalTarget; error: Error }> = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'eventbridge-async-'));
  functions = await loadLocalFunctions({
    templatePath: TEMPLATE,
    stackName: 'fixture',
    region: 'us-east-1',
    accountId: '000000000000',
  });
  service = await startLambdaService({
    functions,
    region: 'us-east-1',
    endpoints: () => ({ dynamoDb: '', eventBridge: '', stepFunctions: '', managementApi: '' }),
    asyncRetryScale: 0.001,
    sendToDestination: async (_destination, record) => {
      destinationRecords.push(record as AsyncInvocationRecord);
    },
  });
  const failing = functions.find((fn) => fn.logicalId === 'FailingFunction') as LocalFunction;
  bridge = await startLocalEventBridge({
    port: 0,
    buses: ['default'],
    rules: [
      {
        name: 'ToFailing',
        eventBusName: 'default',
        eventPattern: { source: ['fixture'], 'detail-type': ['Fail'] },
        targets: [{ id: 'failing', arn: failing.arn, inputPath: '$.detail', deadLetterArn: DLQ }],
      },
      {
        name: 'ToNowhere',
        eventBusName: 'default',
        eventPattern: { source: ['fixture'], 'detail-type': ['Nowhere'] },
        targets: [
          { id: 'gone', arn: 'arn:aws:lambda:us-east-1:000000000000:function:DeletedFunction', deadLetterArn: DLQ },
        ],
      },
    ],
    deliver: deliverToTarget(service, async () => {
      throw new Error('no state machine in this test');
    }),
    onDeadLetter: (target, _event, error) => deadLettered.push({ target, error }),
    retryBaseDelayMs: 1,
  });
  client = new EventBridgeClient({
    endpoint: bridge.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client?.destroy();
  await bridge?.close();
  await service?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function put(detailType: string, detail: object): Promise<void> {
  const result = await client.send(
    new PutEventsCommand({ Entries: [{ Source: 'fixture', DetailType: detailType, Detail: JSON.stringify(detail) }] }),
  );
  expect(result.FailedEntryCount).toBe(0);
  await bridge.idle();
  await service.idle();
}

describe('EventBridge → Lambda is an asynchronous invoke', () => {
  it("retries a function error twice, then sends the event to the function's on-failure destination, not the rule's DLQ", async () => {
    const attempts = join(scratch, 'attempts');
    await put('Fail', { attempts });

    expect(readFileSync(attempts, 'utf8')).toBe('xxx');
    expect(destinationRecords).toHaveLength(1);
    expect(destinationRecords[0]).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { attempts },
      responsePayload: { errorType: 'FixtureFailure' },
    });
    // EventBridge delivered once: Lambda accepted the event, so the rule target never saw the error.
    expect(bridge.stats()).toMatchObject({ delivered: 1, retried: 0, deadLettered: 0 });
    expect(deadLettered).toEqual([]);
  });

  it("sends to the rule's DLQ only what Lambda refused (a function that does not exist)", async () => {
    await put('Nowhere', {});
    expect(deadLettered).toHaveLength(1);
    expect(deadLettered[0]?.error.name).toBe('ResourceNotFoundException');
    expect(destinationRecords).toHaveLength(1);
  });
});
