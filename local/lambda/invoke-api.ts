import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AwsServiceError, newRequestId, readBody, sendJson } from '../aws-protocol.js';
import { ERROR_SHAPES, type LocalIam } from '../iam/authorizer.js';
import { listen } from '../listen.js';
import { FunctionError, type LambdaService, TooManyRequestsError, UnknownFunctionError } from './service.js';

export interface LocalInvokeApiOptions {
  host: string;
  port: number;
  functions: Pick<LambdaService, 'invoke'>;
  iam: LocalIam;
  /** A function's ARN from its name or ARN, and whether the templates have such a function. */
  resolveFunction: (nameOrArn: string) => { arn: string; exists: boolean };
  log?: (message: string, extra?: object) => void;
}

export interface LocalInvokeApi {
  url: string;
  close(): Promise<void>;
}

/** Lambda's synchronous payload limit (6 MB); an Event invoke takes 1 MB. */
const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
const MAX_EVENT_PAYLOAD = 1024 * 1024;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Lambda's errors are REST-JSON: the type in `x-amzn-ErrorType`, a body of `Type` (User or Service)
 * and `Message` (`message` for throttling, with its `Reason`).
 */
function sendLambdaError(
  res: ServerResponse,
  requestId: string,
  status: number,
  code: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, body, { 'x-amzn-requestid': requestId, 'x-amzn-errortype': code, ...headers });
}

/**
 * The Lambda Invoke API in front of the local Lambda service, for code that invokes a function with
 * the unmodified SDK (AWS_ENDPOINT_URL_LAMBDA): `POST /2015-03-31/functions/{FunctionName}/invocations`,
 * signed with a local role's key and allowed only where that role's policies grant
 * lambda:InvokeFunction on the function's ARN. RequestResponse answers the handler's result, a
 * function error as 200 with `X-Amz-Function-Error: Unhandled` and the error payload; Event answers
 * 202 once queued; DryRun 204 after the checks.
 */
export async function startLocalInvokeApi(options: LocalInvokeApiOptions): Promise<LocalInvokeApi> {
  const log = options.log ?? (() => {});

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      sendLambdaError(res, requestId, 404, 'UnknownOperationException', {
        Type: 'User',
        Message: `Unknown operation ${req.method} ${url.pathname}`,
      });
      return;
    }
    const requested = decodeURIComponent(match[1] ?? '');
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
      sendLambdaError(res, requestId, 400, 'InvalidParameterValueException', {
        Type: 'User',
        Message: `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      });
      return;
    }
    const limit = invocationType === 'Event' ? MAX_EVENT_PAYLOAD : MAX_SYNC_PAYLOAD;
    const { body, tooLarge } = await readBody(req, limit);
    try {
      const principal = options.iam.principalOf(req.headers, ERROR_SHAPES.lambda);
      const qualifier = url.searchParams.get('Qualifier');
      const { arn: functionArn, exists } = options.resolveFunction(requested);
      // IAM decides before Lambda looks the function up: a caller without the grant learns nothing.
      options.iam.authorizeInvoke(principal, functionArn);
      if (!exists || (qualifier !== null && qualifier !== '$LATEST')) {
        sendLambdaError(res, requestId, 404, 'ResourceNotFoundException', {
          Type: 'User',
          Message: `Function not found: ${functionArn}${qualifier ? `:${qualifier}` : ''}`,
        });
        return;
      }
      if (tooLarge) {
        sendLambdaError(res, requestId, 413, 'RequestTooLargeException', {
          Type: 'User',
          message: `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
        });
        return;
      }
      let event: unknown = null;
      if (body.length > 0) {
        try {
          event = JSON.parse(body.toString('utf8'));
        } catch {
          sendLambdaError(res, requestId, 400, 'InvalidRequestContentException', {
            Type: 'User',
            message: 'Could not parse request body into json: Could not parse payload into json',
          });
          return;
        }
      }
      const headers = { 'x-amzn-requestid': requestId, 'x-amz-executed-version': '$LATEST' };
      if (invocationType === 'DryRun') {
        res.writeHead(204, headers).end();
        return;
      }
      if (invocationType === 'Event') {
        await options.functions.invoke(functionArn, event, { invocationType: 'Event' });
        res.writeHead(202, { ...headers, 'content-length': '0' }).end();
        return;
      }
      try {
        const result = await options.functions.invoke(functionArn, event, { invocationType: 'RequestResponse' });
        sendJson(res, 200, result ?? null, headers);
      } catch (error) {
        if (!(error instanceof FunctionError)) throw error;
        sendJson(res, 200, error.payload, { ...headers, 'x-amz-function-error': 'Unhandled' });
      }
    } catch (error) {
      if (error instanceof AwsServiceError) {
        sendLambdaError(res, requestId, error.status, error.code, { Type: 'User', Message: error.message });
      } else if (error instanceof TooManyRequestsError) {
        sendLambdaError(
          res,
          requestId,
          429,
          'TooManyRequestsException',
          { Type: 'User', message: error.message, Reason: error.reason },
          { 'retry-after': '1' },
        );
      } else if (error instanceof UnknownFunctionError) {
        sendLambdaError(res, requestId, 404, 'ResourceNotFoundException', { Type: 'User', Message: error.message });
      } else {
        log('lambda invoke api: internal error', { error: error instanceof Error ? error.message : String(error) });
        sendLambdaError(res, requestId, 500, 'ServiceException', {
          Type: 'Service',
          Message: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('lambda invoke api: request failed', { error: String(error) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const { port } = await listen(server, options.port, options.host);
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
