/**
 * What every local AWS stand-in shares: the region and account the local stack pretends to live in,
 * AWS's error shapes for the JSON 1.0 / 1.1 and REST-JSON protocols, body reading with a size limit,
 * and a small X-Amz-Target dispatcher for JSON-protocol services (EventBridge, Step Functions, SQS,
 * the DynamoDB front). One copy here instead of one per server.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT = '000000000000';

/** A request id shaped like AWS's `x-amzn-requestid`. */
export function newRequestId(): string {
  return randomUUID();
}

/** JSON protocols put timestamps on the wire as epoch seconds (with a fraction). */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

export type AwsJsonProtocol = 'json1.0' | 'json1.1';
export type AwsProtocol = AwsJsonProtocol | 'rest-json';

/**
 * An error answered the way the AWS service would: `code` becomes the SDK exception's `name`.
 * `messageKey` is `Message` for services that spell it so (DynamoDB, IAM denials), `message` otherwise;
 * the SDK reads either. `queryError` is the `x-amzn-query-error` header of awsQueryCompatible services
 * (SQS), which the SDK uses as the error name instead of `code`.
 */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly options: { messageKey?: 'message' | 'Message'; typePrefix?: string; queryError?: string } = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** Reads a request body, keeping at most `limit` bytes; the rest is drained so a response can still be sent. */
export function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

/** Writes a JSON response with an exact content-length. */
export function sendJson(
  res: ServerResponse,
  statusCode: number,
  payload: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): void {
  const body = JSON.stringify(payload);
  res.writeHead(statusCode, {
    ...headers,
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

const JSON_CONTENT_TYPES: Record<AwsJsonProtocol, string> = {
  'json1.0': 'application/x-amz-json-1.0',
  'json1.1': 'application/x-amz-json-1.1',
};

/**
 * Answers an error in the protocol's shape: JSON 1.0/1.1 put the type in `__type` (the SDK strips any
 * `namespace#` prefix); REST-JSON services such as API Gateway's management API name it in `x-amzn-ErrorType`.
 */
export function sendAwsError(
  res: ServerResponse,
  protocol: AwsProtocol,
  error: AwsServiceError,
  requestId?: string,
): void {
  const messageKey = error.options.messageKey ?? 'message';
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId ?? newRequestId() };
  if (error.options.queryError) headers['x-amzn-query-error'] = error.options.queryError;
  if (protocol === 'rest-json') {
    headers['x-amzn-errortype'] = error.code;
    sendJson(res, error.status, { [messageKey]: error.message }, headers);
    return;
  }
  sendJson(
    res,
    error.status,
    { __type: `${error.options.typePrefix ?? ''}${error.code}`, [messageKey]: error.message },
    headers,
    JSON_CONTENT_TYPES[protocol],
  );
}

/** Parses a JSON-protocol body: empty means `{}`, anything but an object is a SerializationException. */
export function parseJsonObject(body: Buffer | string): Record<string, unknown> {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AwsServiceError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError('SerializationException', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** What an operation of a JSON-protocol stand-in receives besides its input. */
export interface JsonRequestContext {
  req: IncomingMessage;
  requestId: string;
  operation: string;
}

export type JsonOperation = (input: Record<string, unknown>, context: JsonRequestContext) => object | Promise<object>;

export interface JsonProtocolOptions {
  /** `AWSEvents`, `AWSStepFunctions`, `AmazonSQS`...: the part of X-Amz-Target before the dot. */
  targetPrefix: string;
  protocol: AwsJsonProtocol;
  maxBodyBytes: number;
  operations: Record<string, JsonOperation>;
  /**
   * Runs after the operation is known and the body parsed, before the operation: throws an
   * {@link AwsServiceError} (AccessDenied...) to refuse the call.
   */
  authorize?: (operation: string, input: Record<string, unknown>, req: IncomingMessage) => void;
  /** Told about errors that are not AwsServiceErrors (answered as 500 InternalFailure). */
  onInternalError?: (error: unknown, operation: string | undefined) => void;
}

/**
 * A request handler for an AWS JSON-protocol service: `POST /` with `X-Amz-Target: Prefix.Operation`
 * and a JSON body, answered with the operation's result or AWS's error shape.
 */
export function jsonProtocolHandler(
  options: JsonProtocolOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const contentType = JSON_CONTENT_TYPES[options.protocol];
  return async (req, res) => {
    const requestId = newRequestId();
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.indexOf('.');
    const operationName = dot > 0 && target.slice(0, dot) === options.targetPrefix ? target.slice(dot + 1) : undefined;
    try {
      const { body, tooLarge } = await readBody(req, options.maxBodyBytes);
      if (tooLarge) throw new AwsServiceError('ValidationException', 'Request is too large.', 413);
      const operation = operationName === undefined ? undefined : options.operations[operationName];
      if (req.method !== 'POST' || operationName === undefined || !operation) {
        throw new AwsServiceError('UnknownOperationException', `Unknown operation ${target || String(req.method)}`);
      }
      const input = parseJsonObject(body);
      options.authorize?.(operationName, input, req);
      const result = await operation(input, { req, requestId, operation: operationName });
      sendJson(res, 200, result, { 'x-amzn-requestid': requestId }, contentType);
    } catch (thrown) {
      let error: AwsServiceError;
      if (thrown instanceof AwsServiceError) error = thrown;
      else {
        options.onInternalError?.(thrown, operationName);
        error = new AwsServiceError('InternalFailure', thrown instanceof Error ? thrown.message : String(thrown), 500);
      }
      sendAwsError(res, options.protocol, error, requestId);
    }
  };
}
