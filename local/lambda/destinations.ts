import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalCredentials } from '../iam/credentials.js';
import type { LambdaErrorPayload } from './protocol.js';

/** Why Lambda sent an asynchronous invocation's record to a destination. */
export type AsyncCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** The invocation record Lambda sends to an asynchronous invocation's destination. */
export interface AsyncInvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    /** The function ARN with the version that ran, `...:function:Name:$LATEST`. */
    functionArn: string;
    condition: AsyncCondition;
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext?: { statusCode: number; executedVersion: string; functionError?: 'Unhandled' };
  responsePayload?: unknown;
}

export function asyncInvocationRecord(input: {
  requestId: string;
  functionArn: string;
  condition: AsyncCondition;
  invokeCount: number;
  requestPayload: unknown;
  /** The last attempt's outcome; absent when the event aged out before any attempt. */
  response?: { payload: unknown } | { error: LambdaErrorPayload };
  now: Date;
}): AsyncInvocationRecord {
  const { response } = input;
  return {
    version: '1.0',
    timestamp: input.now.toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: `${input.functionArn}:$LATEST`,
      condition: input.condition,
      approximateInvokeCount: input.invokeCount,
    },
    requestPayload: input.requestPayload,
    ...(response
      ? {
          responseContext: {
            statusCode: 200,
            executedVersion: '$LATEST',
            ...('error' in response ? { functionError: 'Unhandled' as const } : {}),
          },
          // Lambda's error body as the function's runtime reported it, without the stack trace.
          responsePayload:
            'error' in response
              ? { errorType: response.error.errorType, errorMessage: response.error.errorMessage }
              : response.payload,
        }
      : {}),
  };
}

/**
 * Sends an invocation record to a destination ARN, signed as the given principal (the function's
 * execution role: Lambda uses it to send to destinations).
 */
export type DestinationSender = (
  destinationArn: string,
  record: object,
  credentials: LocalCredentials,
) => Promise<void>;

/** `arn:aws:sqs:us-east-1:000000000000:name` → `{endpoint}/000000000000/name`, SQS's queue URL shape. */
export function queueUrlOf(queueArn: string, endpoint: string): string {
  const match = /^arn:aws[a-z-]*:sqs:[^:]*:([^:]+):(.+)$/.exec(queueArn);
  if (!match) throw new Error(`not an SQS queue ARN: ${queueArn}`);
  return `${endpoint.replace(/\/$/, '')}/${match[1]}/${match[2]}`;
}

/** Sends records to SQS destinations with SendMessage on the given endpoint, one client per principal. */
export function sqsDestinationSender(options: { endpoint: string; region: string }): DestinationSender & {
  destroy(): void;
} {
  const clients = new Map<string, SQSClient>();
  const send = async (destinationArn: string, record: object, credentials: LocalCredentials) => {
    if (!destinationArn.includes(':sqs:')) {
      throw new Error(`only SQS destinations are supported locally, not ${destinationArn}`);
    }
    let client = clients.get(credentials.accessKeyId);
    if (!client) {
      client = new SQSClient({ endpoint: options.endpoint, region: options.region, credentials });
      clients.set(credentials.accessKeyId, client);
    }
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrlOf(destinationArn, options.endpoint),
        MessageBody: JSON.stringify(record),
      }),
    );
  };
  return Object.assign(send, {
    destroy() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  });
}
