import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { AwsServiceError, parseJsonObject, readBody, sendAwsError } from '../aws-protocol.js';
import type { HopTimer } from '../latency/model.js';
import { listen } from '../listen.js';
import { ERROR_SHAPES, type LocalIam } from './authorizer.js';
import { DYNAMODB_TARGET_PREFIX, dynamoDbCallOf, STREAMS_TARGET_PREFIX } from './dynamodb-actions.js';

/** DynamoDB's request limit is 16 MB (BatchWriteItem); a little more leaves room for the JSON around it. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

export interface DynamoDbFront {
  /** `http://host:port`: what the handlers' AWS_ENDPOINT_URL_DYNAMODB points at. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface DynamoDbFrontOptions {
  host: string;
  port: number;
  /** DynamoDB Local's own endpoint, which only the front talks to. */
  upstream: string;
  iam: LocalIam;
  region: string;
  accountId: string;
  /**
   * Starts the latency model's DynamoDB hop as a request arrives: its answer is held until the hop's
   * draw is over, DynamoDB Local's own time included (stream reads are the stream hop's, so they are
   * not held). Default none.
   */
  requestHop?: () => HopTimer;
}

/**
 * An authorising HTTP front before DynamoDB Local, which ignores signatures: each request's access key
 * names a role, its X-Amz-Target and body say what IAM would check (dynamodb-actions.ts), and a request
 * the role may not make is refused with DynamoDB's AccessDeniedException. Allowed requests go to
 * DynamoDB Local byte for byte, and its answers come back untouched.
 */
export async function startDynamoDbFront(options: DynamoDbFrontOptions): Promise<DynamoDbFront> {
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const { iam } = options;
  const shape = ERROR_SHAPES.dynamodb;

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | undefined,
    hop: HopTimer | undefined,
  ): void => {
    const headers = { ...req.headers, host: upstream.host };
    if (body !== undefined) headers['content-length'] = String(body.length);
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        const pass = () => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        // The answer waits (paused, unread) for what is left of the hop's draw.
        const dueMs = hop?.dueMs() ?? 0;
        if (dueMs > 0) setTimeout(pass, dueMs);
        else pass();
      },
    );
    outgoing.on('error', (error) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      sendAwsError(res, 'json1.0', new AwsServiceError('InternalFailure', `DynamoDB Local: ${error.message}`, 500));
    });
    if (body === undefined) req.pipe(outgoing);
    else outgoing.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const isDynamoDb = target.startsWith(DYNAMODB_TARGET_PREFIX) || target.startsWith(STREAMS_TARGET_PREFIX);
    const hop = target.startsWith(DYNAMODB_TARGET_PREFIX) ? options.requestHop?.() : undefined;
    if (iam.mode === 'off') {
      // Nothing to decide: count by operation and stream the request through unread.
      if (isDynamoDb)
        iam.count(iam.principalOf(req.headers, shape), `dynamodb:${target.slice(target.indexOf('.') + 1)}`);
      forward(req, res, undefined, hop);
      return;
    }
    try {
      const principal = iam.principalOf(req.headers, shape);
      const { body, tooLarge } = await readBody(req, MAX_BODY_BYTES);
      if (tooLarge) throw new AwsServiceError('RequestEntityTooLarge', 'Request size exceeds the limit', 413);
      if (isDynamoDb) {
        let input: Record<string, unknown>;
        try {
          input = parseJsonObject(body);
        } catch {
          // Not ours to judge: DynamoDB Local answers a malformed body as DynamoDB would.
          forward(req, res, body, hop);
          return;
        }
        const call = dynamoDbCallOf(target, input, options.region, options.accountId);
        iam.count(principal, call.operation);
        iam.authorize(principal, call.required, shape);
      }
      forward(req, res, body, hop);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      sendAwsError(res, 'json1.0', error);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendAwsError(res, 'json1.0', new AwsServiceError('InternalFailure', String(error), 500));
    });
  });
  const { port } = await listen(server, options.port, options.host);
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
