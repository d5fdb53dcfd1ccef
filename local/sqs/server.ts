import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AwsServiceError, DEFAULT_ACCOUNT, DEFAULT_REGION, jsonProtocolHandler } from '../aws-protocol.js';
import { ERROR_SHAPES, type LocalIam } from '../iam/authorizer.js';
import type { Principal } from '../iam/policy.js';
import { listen } from '../listen.js';

/**
 * A local SQS that the unmodified `@aws-sdk/client-sqs` talks to (the JSON protocol: `POST /` with
 * `X-Amz-Target: AmazonSQS.Operation`): CreateQueue, GetQueueUrl, ListQueues, SendMessage,
 * ReceiveMessage (with long polling and visibility timeouts), DeleteMessage, GetQueueAttributes and
 * PurgeQueue, in memory. With an IAM authorizer, each call needs `sqs:Operation` on the queue ARN from
 * the caller's role or the queue's policy, as in AWS.
 */

export interface LocalQueueConfig {
  name: string;
}

export interface LocalSqsOptions {
  host?: string;
  port: number;
  region?: string;
  accountId?: string;
  /** Queues that exist from the start (the templates' queues). */
  queues?: LocalQueueConfig[];
  iam?: LocalIam;
  /** Milliseconds before a sent message can be received, on top of DelaySeconds (the latency model's SQS hop). */
  deliveryDelayMs?: () => number;
}

export interface SqsMessageView {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
}

export interface LocalSqs {
  /** `http://host:port`, for `AWS_ENDPOINT_URL_SQS` or a client's `endpoint`. */
  url: string;
  port: number;
  queueUrl(name: string): string;
  queueArn(name: string): string;
  /**
   * Sends as an AWS service would from inside AWS (EventBridge to a dead-letter queue): authorised
   * by the queue's policy for `principal`, with `context` (e.g. `aws:SourceArn`) as the condition keys.
   */
  sendAs(principal: Principal, queueArn: string, body: string, context?: Record<string, string>): string;
  /** Messages currently in a queue, visible or not (for tests and logs). */
  messages(name: string): SqsMessageView[];
  close(): Promise<void>;
}

interface StoredMessage extends SqsMessageView {
  md5: string;
  visibleAt: number;
  receiptHandle?: string;
}

interface Queue {
  name: string;
  arn: string;
  createdAt: number;
  visibilityTimeoutSeconds: number;
  messages: StoredMessage[];
  waiters: Set<() => void>;
}

const MAX_BODY_BYTES = 1024 * 1024 + 64 * 1024;
/** SQS's message size limit is 1 MiB (raised from 256 KiB in 2025). */
const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_WAIT_SECONDS = 20;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

function queueDoesNotExist(): AwsServiceError {
  return new AwsServiceError('QueueDoesNotExist', 'The specified queue does not exist.', 400, {
    typePrefix: 'com.amazonaws.sqs#',
  });
}

export async function startLocalSqs(options: LocalSqsOptions): Promise<LocalSqs> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const queues = new Map<string, Queue>();
  const sleeping = new Set<() => void>();
  let url = '';

  const arnOf = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
  const urlOf = (name: string) => `${url}/${accountId}/${name}`;
  const create = (name: string, attributes: Record<string, unknown> = {}): Queue => {
    const existing = queues.get(name);
    if (existing) return existing;
    const queue: Queue = {
      name,
      arn: arnOf(name),
      createdAt: Date.now(),
      visibilityTimeoutSeconds: Number(attributes.VisibilityTimeout ?? 30),
      messages: [],
      waiters: new Set(),
    };
    queues.set(name, queue);
    return queue;
  };
  for (const queue of options.queues ?? []) create(queue.name);

  /** A queue from a QueueUrl (the SDK sends the full URL) or a bare QueueName. */
  const nameOf = (input: Record<string, unknown>): string | undefined => {
    const value = input.QueueUrl ?? input.QueueName;
    if (typeof value !== 'string' || value === '') return undefined;
    return value.slice(value.lastIndexOf('/') + 1);
  };
  const queueOf = (input: Record<string, unknown>): Queue => {
    const name = nameOf(input);
    const queue = name === undefined ? undefined : queues.get(name);
    if (!queue) throw queueDoesNotExist();
    return queue;
  };

  const enqueue = (queue: Queue, body: string, delaySeconds = 0): StoredMessage => {
    if (Buffer.byteLength(body, 'utf8') > MAX_MESSAGE_BYTES) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        'One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.',
      );
    }
    const now = Date.now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5: md5(body),
      sentAt: now,
      visibleAt: now + delaySeconds * 1000 + (options.deliveryDelayMs?.() ?? 0),
      receiveCount: 0,
    };
    queue.messages.push(message);
    for (const wake of queue.waiters) wake();
    return message;
  };

  const receive = (queue: Queue, max: number, visibilitySeconds: number): StoredMessage[] => {
    const now = Date.now();
    const taken: StoredMessage[] = [];
    for (const message of queue.messages) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      message.visibleAt = now + visibilitySeconds * 1000;
      message.receiveCount++;
      message.receiptHandle = `${message.messageId}#${randomUUID()}`;
      taken.push(message);
    }
    return taken;
  };

  /** Long polling: wait until a message may be visible, the wait ends, or the server closes. */
  const waitForMessage = (queue: Queue, ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        queue.waiters.delete(done);
        sleeping.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      queue.waiters.add(done);
      sleeping.add(done);
    });

  const attributesOf = (queue: Queue): Record<string, string> => {
    const now = Date.now();
    const visible = queue.messages.filter((m) => m.visibleAt <= now && m.receiveCount === 0).length;
    const inFlight = queue.messages.filter((m) => m.receiveCount > 0 && m.visibleAt > now).length;
    const delayed = queue.messages.filter((m) => m.receiveCount === 0 && m.visibleAt > now).length;
    const returned = queue.messages.filter((m) => m.receiveCount > 0 && m.visibleAt <= now).length;
    return {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(visible + returned),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    };
  };

  const handler = jsonProtocolHandler({
    targetPrefix: 'AmazonSQS',
    protocol: 'json1.0',
    maxBodyBytes: MAX_BODY_BYTES,
    authorize: (operation, input, req) => {
      const iam = options.iam;
      if (!iam) return;
      const principal = iam.principalOf(req.headers, ERROR_SHAPES.sqs);
      const name = nameOf(input);
      const resource = operation === 'ListQueues' || name === undefined ? arnOf('*') : arnOf(name);
      iam.count(principal, `sqs:${operation}`);
      iam.authorize(principal, [{ action: `sqs:${operation}`, resource }], ERROR_SHAPES.sqs);
    },
    operations: {
      CreateQueue: (input) => {
        const name = String(input.QueueName ?? '');
        if (!QUEUE_NAME.test(name)) {
          throw new AwsServiceError(
            'InvalidParameterValue',
            'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
          );
        }
        create(name, (input.Attributes ?? {}) as Record<string, unknown>);
        return { QueueUrl: urlOf(name) };
      },
      GetQueueUrl: (input) => ({ QueueUrl: urlOf(queueOf(input).name) }),
      ListQueues: (input) => {
        const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
        return { QueueUrls: [...queues.keys()].filter((name) => name.startsWith(prefix)).map(urlOf) };
      },
      SendMessage: (input) => {
        const queue = queueOf(input);
        if (typeof input.MessageBody !== 'string' || input.MessageBody === '') {
          throw new AwsServiceError('MissingParameter', 'The request must contain the parameter MessageBody.');
        }
        const message = enqueue(queue, input.MessageBody, Number(input.DelaySeconds ?? 0));
        return { MessageId: message.messageId, MD5OfMessageBody: message.md5 };
      },
      ReceiveMessage: async (input) => {
        const queue = queueOf(input);
        const max = Math.min(Math.max(Number(input.MaxNumberOfMessages ?? 1), 1), 10);
        const visibility = Number(input.VisibilityTimeout ?? queue.visibilityTimeoutSeconds);
        const deadline = Date.now() + Math.min(Number(input.WaitTimeSeconds ?? 0), MAX_WAIT_SECONDS) * 1000;
        let taken = receive(queue, max, visibility);
        while (taken.length === 0 && Date.now() < deadline && queues.has(queue.name) && url !== '') {
          const nextVisible = Math.min(...queue.messages.map((m) => m.visibleAt), deadline);
          await waitForMessage(queue, Math.max(nextVisible - Date.now(), 1));
          taken = receive(queue, max, visibility);
        }
        if (taken.length === 0) return {};
        return {
          Messages: taken.map((message) => ({
            MessageId: message.messageId,
            ReceiptHandle: message.receiptHandle,
            MD5OfBody: message.md5,
            Body: message.body,
            Attributes: {
              ApproximateReceiveCount: String(message.receiveCount),
              SentTimestamp: String(message.sentAt),
            },
          })),
        };
      },
      DeleteMessage: (input) => {
        const queue = queueOf(input);
        const at = queue.messages.findIndex((message) => message.receiptHandle === input.ReceiptHandle);
        // A handle whose message is already gone (deleted, or received again since) succeeds, as in SQS.
        if (at >= 0) queue.messages.splice(at, 1);
        return {};
      },
      GetQueueAttributes: (input) => {
        const all = attributesOf(queueOf(input));
        const names = Array.isArray(input.AttributeNames) ? (input.AttributeNames as string[]) : ['All'];
        if (names.includes('All')) return { Attributes: all };
        return { Attributes: Object.fromEntries(Object.entries(all).filter(([key]) => names.includes(key))) };
      },
      PurgeQueue: (input) => {
        queueOf(input).messages.length = 0;
        return {};
      },
    },
  });

  const server = createServer((req, res) => {
    void handler(req, res);
  });
  const { port } = await listen(server, options.port, host);
  url = `http://${host}:${port}`;

  return {
    url,
    port,
    queueUrl: urlOf,
    queueArn: arnOf,
    sendAs(principal, queueArn, body, context = {}) {
      const name = queueArn.slice(queueArn.lastIndexOf(':') + 1);
      const queue = queues.get(name);
      if (!queue) throw queueDoesNotExist();
      if (options.iam) {
        options.iam.count(principal, 'sqs:SendMessage');
        options.iam.authorize(
          principal,
          [{ action: 'sqs:SendMessage', resource: queue.arn, context }],
          ERROR_SHAPES.sqs,
        );
      }
      return enqueue(queue, body).messageId;
    },
    messages(name) {
      return (queues.get(name)?.messages ?? []).map(({ messageId, body, sentAt, receiveCount }) => ({
        messageId,
        body,
        sentAt,
        receiveCount,
      }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        url = '';
        for (const wake of [...sleeping]) wake();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
