import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type {
  APIGatewayEventRequestContextLambdaAuthorizer,
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import { DEFAULT_ACCOUNT, DEFAULT_REGION, readBody, sendJson } from '../aws-protocol.js';
import { listen } from '../listen.js';
import { AuthorizerConfigurationError, evaluatePolicyResult, globMatches } from './authorizer-policy.js';
import {
  formatClfTime,
  type GatewayLogger,
  IntegrationTimeoutError,
  type InvokeFunction,
  invokeWithTimeout,
  isRecord,
  isUnauthorizedError,
  newApiId,
  newAwsStyleId,
  normalizeIp,
  silentLogger,
  TaskTracker,
} from './gateway-support.js';
import { compileHttpApiRoutes, type HttpApiRouteConfig } from './http-api-routes.js';

export type { HttpApiRouteConfig } from './http-api-routes.js';

/** HTTP API's request payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** A Lambda authorizer (payload format 2.0) shared by the routes marked `authorized`. */
export interface HttpApiAuthorizerConfig {
  functionName: string;
  /** e.g. `['$request.header.Authorization']`; a missing source is a 401 without calling the authorizer. */
  identitySource: string[];
}

/** The API's CORS configuration, as on `AWS::Serverless::HttpApi` `CorsConfiguration`. */
export interface HttpApiCorsConfig {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders?: string[];
  allowCredentials?: boolean;
  maxAge?: number;
}

/** Options of {@link startLocalHttpApi}. */
export interface LocalHttpApiOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  apiId?: string;
  region?: string;
  accountId?: string;
  routes: HttpApiRouteConfig[];
  authorizer?: HttpApiAuthorizerConfig;
  cors?: HttpApiCorsConfig;
  invoke: InvokeFunction;
  /** Default 30 s, HTTP API's integration timeout. */
  integrationTimeoutMs?: number;
  logger?: GatewayLogger;
}

/**
 * The payload format 2.0 event a route's function receives. Routes behind the Lambda authorizer get
 * what it returned as context under `requestContext.authorizer.lambda`; other routes get no
 * `authorizer` (the @types/aws-lambda event type has either none or a required one).
 */
export type HttpApiEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { authorizer?: APIGatewayEventRequestContextLambdaAuthorizer<unknown> }
>;

/**
 * The payload format 2.0 input of the Lambda authorizer. Like the route's event it has `cookies`
 * only when the request sent some; the @types/aws-lambda type always has them.
 */
export type HttpApiAuthorizerEvent = Omit<APIGatewayRequestAuthorizerEventV2, 'cookies'> & { cookies?: string[] };

/** Counters of a running HTTP API. */
export interface LocalHttpApiStats {
  requests: number;
  preflights: number;
  notFound: number;
  unauthorized: number;
  forbidden: number;
  integrationErrors: number;
}

/** A running local HTTP API. */
export interface LocalHttpApi {
  /** `http://host:port`. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): LocalHttpApiStats;
}

interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/**
 * Starts a local stand-in for an API Gateway HTTP API with Lambda proxy integrations (payload
 * format 2.0): most-specific route matching, a Lambda authorizer with simple or IAM-policy
 * responses, CORS handled by the gateway (preflights answered, backend CORS headers ignored), and
 * HTTP API's error responses (404 Not Found, 401 Unauthorized, 403 Forbidden, 500 Internal Server Error).
 */
export async function startLocalHttpApi(options: LocalHttpApiOptions): Promise<LocalHttpApi> {
  const host = options.host ?? '127.0.0.1';
  const apiId = options.apiId ?? newApiId();
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const stage = '$default';
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 30_000;
  const logger = options.logger ?? silentLogger;
  const matchRoute = compileHttpApiRoutes(options.routes);
  const authorizer = options.authorizer;
  const cors = options.cors;
  if (options.routes.some((route) => route.authorized) && !authorizer) {
    throw new Error('a route is marked authorized but no authorizer is configured');
  }
  for (const source of authorizer?.identitySource ?? []) {
    if (!/^\$request\.(header|querystring)\..+$/.test(source)) {
      throw new Error(`unsupported HTTP API identity source: ${source}`);
    }
  }

  const tasks = new TaskTracker(logger);
  // Lambda receives a serialized copy: a handler mutating its event must not change what the gateway holds.
  const invoke: InvokeFunction = (functionName, event) => options.invoke(functionName, structuredClone(event));
  const sockets = new Set<Socket>();
  const stats: LocalHttpApiStats = {
    requests: 0,
    preflights: 0,
    notFound: 0,
    unauthorized: 0,
    forbidden: 0,
    integrationErrors: 0,
  };
  let port = 0;

  const server = createServer((req, res) => tasks.run('HTTP API request', handle(req, res)));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  port = (await listen(server, options.port, host)).port;
  logger.info(`local HTTP API listening on http://${host}:${port}`);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests += 1;
    const requestId = newAwsStyleId();
    const method = (req.method ?? 'GET').toUpperCase();
    const origin = req.headers.origin;
    const gatewayHeaders: Record<string, string> = { 'apigw-requestid': requestId };

    if (cors && method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method']) {
      req.resume();
      stats.preflights += 1;
      res.writeHead(204, { ...gatewayHeaders, ...preflightHeaders(cors, origin) });
      res.end();
      return;
    }
    const corsHeaders = cors && origin !== undefined ? responseCorsHeaders(cors, origin) : {};
    const reply = (statusCode: number, message: string) =>
      sendJson(res, statusCode, { message }, { ...gatewayHeaders, ...corsHeaders });

    const { body, tooLarge } = await readBody(req, MAX_REQUEST_BYTES);
    if (tooLarge) {
      reply(413, 'Request Entity Too Large');
      return;
    }
    const [rawPath = '/', ...queryParts] = (req.url ?? '/').split('?');
    const match = matchRoute(method, rawPath);
    if (!match) {
      stats.notFound += 1;
      reply(404, 'Not Found');
      return;
    }

    const now = Date.now();
    const domainName = req.headers.host ?? `${host}:${port}`;
    const event: HttpApiEvent = {
      version: '2.0',
      routeKey: match.routeKey,
      rawPath,
      rawQueryString: queryParts.join('?'),
      ...requestHeaders(req),
      requestContext: {
        accountId,
        apiId,
        domainName,
        domainPrefix: domainName.split('.')[0] ?? domainName,
        http: {
          method,
          path: rawPath,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: normalizeIp(req.socket.remoteAddress),
          userAgent: req.headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: match.routeKey,
        stage,
        time: formatClfTime(now),
        timeEpoch: now,
      },
      isBase64Encoded: false,
    };
    const query = queryStringParameters(event.rawQueryString);
    if (query) event.queryStringParameters = query;
    if (Object.keys(match.pathParameters).length > 0) event.pathParameters = match.pathParameters;
    if (body.length > 0) {
      const binary = !isUtf8(body) || isBinaryContentType(req.headers['content-type']);
      event.body = body.toString(binary ? 'base64' : 'utf8');
      event.isBase64Encoded = binary;
    }

    if (match.route.authorized && authorizer) {
      const outcome = await authorize(event, method, authorizer);
      if ('statusCode' in outcome) {
        if (outcome.statusCode === 401) stats.unauthorized += 1;
        if (outcome.statusCode === 403) stats.forbidden += 1;
        reply(outcome.statusCode, outcome.message);
        return;
      }
      event.requestContext.authorizer = { lambda: outcome.lambda };
    }

    let result: unknown;
    try {
      result = await invokeWithTimeout(invoke, match.route.functionName, event, integrationTimeoutMs);
    } catch (err) {
      stats.integrationErrors += 1;
      logger.error(`${match.routeKey} failed`, err);
      if (err instanceof IntegrationTimeoutError) reply(503, 'Service Unavailable');
      else reply(500, 'Internal Server Error');
      return;
    }
    const response = integrationResponse(result);
    if (!response) {
      stats.integrationErrors += 1;
      logger.error(`${match.routeKey} returned a malformed response`, result);
      reply(500, 'Internal Server Error');
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      // With CORS configured, API Gateway ignores the backend's CORS headers and sends its own.
      if (cors && name.toLowerCase().startsWith('access-control-')) continue;
      headers[name.toLowerCase()] = value;
    }
    if (response.cookies.length > 0) headers['set-cookie'] = response.cookies;
    Object.assign(headers, gatewayHeaders, corsHeaders);
    headers['content-length'] = String(response.body.length);
    res.writeHead(response.statusCode, headers);
    res.end(response.body);
  }

  async function authorize(
    event: HttpApiEvent,
    method: string,
    config: HttpApiAuthorizerConfig,
  ): Promise<{ lambda: unknown } | { statusCode: number; message: string }> {
    const unauthorized = { statusCode: 401, message: 'Unauthorized' };
    const identitySource: string[] = [];
    for (const source of config.identitySource) {
      const value = httpIdentitySourceValue(source, event);
      if (value === undefined) return unauthorized;
      identitySource.push(value);
    }
    const routeArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/${method}${event.rawPath}`;
    const { body: _body, isBase64Encoded: _encoded, ...request } = event;
    const authorizerEvent: HttpApiAuthorizerEvent = { ...request, type: 'REQUEST', routeArn, identitySource };
    try {
      const result = await invokeWithTimeout(invoke, config.functionName, authorizerEvent, integrationTimeoutMs);
      if (isRecord(result) && typeof result.isAuthorized === 'boolean') {
        if (!result.isAuthorized) return { statusCode: 403, message: 'Forbidden' };
        return { lambda: result.context ?? null };
      }
      const decision = evaluatePolicyResult(result, routeArn);
      if (!decision.allowed) return { statusCode: 403, message: 'Forbidden' };
      return { lambda: decision.context };
    } catch (err) {
      if (isUnauthorizedError(err)) return unauthorized;
      if (!(err instanceof AuthorizerConfigurationError)) stats.integrationErrors += 1;
      logger.error('authorizer failed', err);
      return { statusCode: 500, message: 'Internal Server Error' };
    }
  }

  let closed: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await tasks.drain();
    for (const socket of sockets) socket.destroy();
    await serverClosed;
    logger.info('local HTTP API stopped');
  }

  return {
    url: `http://${host}:${port}`,
    port,
    close: () => {
      closed ??= shutdown();
      return closed;
    },
    stats: () => ({ ...stats }),
  };
}

/** Headers in payload 2.0 form: lower-case names, duplicates joined by commas, cookies split out. */
function requestHeaders(req: IncomingMessage): Pick<HttpApiEvent, 'headers' | 'cookies'> {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    const value = req.rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      cookies.push(...value.split(/;\s*/).filter((c) => c !== ''));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return cookies.length > 0 ? { headers, cookies } : { headers };
}

function queryStringParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    out[key] = out[key] === undefined ? value : `${out[key]},${value}`;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function httpIdentitySourceValue(source: string, event: HttpApiEvent): string | undefined {
  const header = /^\$request\.header\.(.+)$/.exec(source)?.[1];
  const value =
    header !== undefined
      ? event.headers[header.toLowerCase()]
      : event.queryStringParameters?.[/^\$request\.querystring\.(.+)$/.exec(source)?.[1] ?? ''];
  return value === undefined || value === '' ? undefined : value;
}

function isBinaryContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return /^(image|audio|video)\/|^application\/(octet-stream|zip|gzip|pdf)/i.test(contentType);
}

function originAllowed(cors: HttpApiCorsConfig, origin: string): boolean {
  return cors.allowOrigins.some((allowed) => allowed === '*' || globMatches(allowed, origin));
}

function allowOriginValue(cors: HttpApiCorsConfig, origin: string): string {
  return cors.allowOrigins.includes('*') && !cors.allowCredentials ? '*' : origin;
}

function preflightHeaders(cors: HttpApiCorsConfig, origin: string): Record<string, string> {
  // An origin outside the configuration gets the 204 without CORS headers, so the browser blocks it.
  if (!originAllowed(cors, origin)) return {};
  const headers: Record<string, string> = {
    'access-control-allow-origin': allowOriginValue(cors, origin),
    'access-control-allow-methods': cors.allowMethods.join(','),
    'access-control-allow-headers': cors.allowHeaders.join(','),
  };
  if (cors.maxAge !== undefined) headers['access-control-max-age'] = String(cors.maxAge);
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

function responseCorsHeaders(cors: HttpApiCorsConfig, origin: string): Record<string, string> {
  if (!originAllowed(cors, origin)) return {};
  const headers: Record<string, string> = { 'access-control-allow-origin': allowOriginValue(cors, origin) };
  if (cors.exposeHeaders?.length) headers['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/**
 * Maps a handler's result by the payload 2.0 rules: an object with `statusCode` is the response;
 * anything else is a 200 whose JSON body is the result. Undefined when the structured response is
 * malformed, which API Gateway answers with a 500.
 */
function integrationResponse(result: unknown): HttpResponse | undefined {
  if (!isRecord(result) || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from(body, 'utf8'),
    };
  }
  const { statusCode, headers, cookies, body, isBase64Encoded } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return undefined;
  }
  if (body !== undefined && body !== null && typeof body !== 'string') return undefined;
  const outHeaders: Record<string, string> = {};
  if (headers !== undefined && headers !== null) {
    if (!isRecord(headers)) return undefined;
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || value === null) continue;
      outHeaders[name] = String(value);
    }
  }
  if (!Object.keys(outHeaders).some((name) => name.toLowerCase() === 'content-type')) {
    outHeaders['content-type'] = 'text/plain; charset=utf-8';
  }
  const outCookies = Array.isArray(cookies) ? cookies.filter((c): c is string => typeof c === 'string') : [];
  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers: outHeaders,
    cookies: outCookies,
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}
