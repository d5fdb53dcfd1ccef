import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKeyIdOf, credentialsForRole, functionRoleName } from '../../../../local/iam/credentials.js';
import { asyncInvocationRecord, queueUrlOf, sqsDestinationSender } from '../../../../local/lambda/destinations.js';

/** The smallest SQS that SendMessage accepts: JSON protocol, an MD5 the SDK checks, every request kept. */
interface Received {
  target: string | undefined;
  accessKeyId: string | undefined;
  body: { QueueUrl?: string; MessageBody?: string };
}
const received: Received[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      const body = JSON.parse(text) as Received['body'];
      received.push({
        target: request.headers['x-amz-target'] as string | undefined,
        accessKeyId: accessKeyIdOf(request.headers.authorization),
        body,
      });
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({
          MessageId: `m-${received.length}`,
          MD5OfMessageBody: createHash('md5')
            .update(body.MessageBody ?? '')
            .digest('hex'),
        }),
      );
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

describe('the SQS destination sender', () => {
  it('sends the record with SendMessage to the queue the ARN names, signed as the given role', async () => {
    const send = sqsDestinationSender({ endpoint, region: 'us-east-1' });
    const credentials = credentialsForRole(functionRoleName('SessionStartFunction'));
    const record = asyncInvocationRecord({
      requestId: 'r-1',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:SessionStartFunction',
      condition: 'RetriesExhausted',
      invokeCount: 3,
      requestPayload: { detail: { connectionId: 'c-1' } },
      response: { error: { errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom'] } },
      now: new Date('2026-01-01T00:00:00Z'),
    });
    try {
      await send('arn:aws:sqs:us-east-1:000000000000:switchboard-failures', record, credentials);
    } finally {
      send.destroy();
    }
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.target).toBe('AmazonSQS.SendMessage');
    expect(request?.accessKeyId).toBe(credentials.accessKeyId);
    expect(request?.body.QueueUrl).toBe(`${endpoint}/000000000000/switchboard-failures`);
    expect(JSON.parse(request?.body.MessageBody ?? '{}')).toEqual({
      version: '1.0',
      timestamp: '2026-01-01T00:00:00.000Z',
      requestContext: {
        requestId: 'r-1',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:SessionStartFunction:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { detail: { connectionId: 'c-1' } },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'boom' },
    });
  });

  it('refuses destinations other than SQS queues', async () => {
    const send = sqsDestinationSender({ endpoint, region: 'us-east-1' });
    await expect(send('arn:aws:sns:us-east-1:000000000000:topic', {}, credentialsForRole('r'))).rejects.toThrow(
      /only SQS destinations/,
    );
    send.destroy();
  });

  it('derives the queue URL from the ARN', () => {
    expect(queueUrlOf('arn:aws:sqs:eu-west-1:123456789012:q', 'http://127.0.0.1:9324/')).toBe(
      'http://127.0.0.1:9324/123456789012/q',
    );
    expect(() => queueUrlOf('arn:aws:sns:eu-west-1:123456789012:t', 'http://x')).toThrow(/not an SQS queue ARN/);
  });
});
