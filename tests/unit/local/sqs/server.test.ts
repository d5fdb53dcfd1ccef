import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSqs, startLocalSqs } from '../../../../local/sqs/server.js';

/** The local SQS through the unmodified v3 client (JSON protocol, MD5 checks on send and receive). */
describe('local SQS', () => {
  let sqs: LocalSqs;
  let client: SQSClient;

  beforeAll(async () => {
    sqs = await startLocalSqs({ port: 0, queues: [{ name: 'Existing' }] });
    client = new SQSClient({
      endpoint: sqs.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await sqs.close();
  });

  const count = async (QueueUrl: string) =>
    (await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] })))
      .Attributes?.ApproximateNumberOfMessages;

  it('finds the queues it started with and creates others', async () => {
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'Existing' }));
    expect(QueueUrl).toBe(sqs.queueUrl('Existing'));
    const created = await client.send(new CreateQueueCommand({ QueueName: 'Fresh' }));
    expect(created.QueueUrl).toBe(sqs.queueUrl('Fresh'));
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'Missing' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
  });

  it('sends, receives with a visibility timeout, and deletes', async () => {
    const QueueUrl = sqs.queueUrl('Existing');
    const sent = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'héllo' }));
    expect(sent.MessageId).toBeDefined();
    expect(await count(QueueUrl)).toBe('1');

    const received = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages?.map((message) => message.Body)).toEqual(['héllo']);
    // In flight: not visible to a second receive, not counted as waiting.
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages).toBeUndefined();
    expect(await count(QueueUrl)).toBe('0');

    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages?.[0]?.ReceiptHandle }));
    expect(sqs.messages('Existing')).toEqual([]);
  });

  it('makes a message visible again when its visibility timeout passes without a delete', async () => {
    const QueueUrl = sqs.queueUrl('Existing');
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again' }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
    const second = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(second.Messages?.[0]?.MessageId).toBe(first.Messages?.[0]?.MessageId);
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: second.Messages?.[0]?.ReceiptHandle }));
  });

  it('answers a long poll as soon as a message arrives', async () => {
    const QueueUrl = sqs.queueUrl('Existing');
    const polling = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'woke' }));
    expect((await polling).Messages?.[0]?.Body).toBe('woke');
  });
});
