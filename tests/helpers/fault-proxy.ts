import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fault rule's `match` sees of one request (the body is buffered, so it can be inspected). */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: IncomingHttpHeaders;
  /** `x-amz-target` (JSON protocols such as DynamoDB's), when present. */
  target: string | undefined;
  body: string;
}

/** One fault: the response the proxy gives instead of the upstream's. */
export interface FaultSpec {
  status: number;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Only requests this accepts get the fault; the default is every request. */
  match?: (request: ProxiedRequest) => boolean;
  /**
   * Forward the request first and discard the upstream's answer: the call took effect but its
   * response was lost, which is what makes a client's retry a repeat.
   */
  afterForward?: boolean;
}

/** A fault rule in force: how many times it has fired and how many remain. */
export interface FaultRule {
  readonly spec: FaultSpec;
  readonly served: number;
  readonly remaining: number;
  /** Stops it firing. */
  cancel(): void;
}

/** A hold in force: matching requests wait at the proxy until released, then pass unchanged. */
export interface HoldRule {
  /** Requests caught so far. */
  readonly held: number;
  /** Resolves once `count` requests are being held. */
  caught(): Promise<void>;
  /** Lets every held request (and any later match) through. */
  release(): void;
}

/** One request as the proxy handled it. */
export interface ProxyLogEntry {
  method: string;
  path: string;
  target: string | undefined;
  /** The request body, as received (a posted frame, a JSON request). */
  body: string;
  /** `passed`: the upstream answered; `faulted`: a fault rule did (see `forwarded`). */
  outcome: 'passed' | 'faulted' | 'error';
  status: number;
  /** True when the upstream saw the request (passed, or a fault with `afterForward`). */
  forwarded: boolean;
}

/** A running fault-injecting reverse proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Where requests go; may be set after the proxy started (until then requests get 502). */
  setUpstream(url: string): void;
  /** Answers the next `count` matching requests with `fault`; `Infinity` keeps it until cancelled. */
  failNext(count: number, fault: FaultSpec): FaultRule;
  /**
   * Holds the next `count` matching requests until `release()`, then forwards them: a slow call
   * made as slow as a test needs, so events can be ordered around it.
   */
  holdNext(count: number, match: (request: ProxiedRequest) => boolean): HoldRule;
  /** Cancels every fault rule. */
  clearFaults(): void;
  /** Requests answered by the upstream / by a fault rule, since start. */
  stats(): { passed: number; faulted: number; errors: number };
  /** Every request handled so far, oldest first (at most the last 20,000). */
  log(): ProxyLogEntry[];
  close(): Promise<void>;
}

const LOG_LIMIT = 20_000;

/**
 * Starts a small reverse proxy on 127.0.0.1 (a free port) in front of an HTTP endpoint, with a
 * programmable fault plan. Rules are tried oldest first; the first matching rule with faults left
 * answers the request. Everything else is forwarded unchanged (path, method, headers, body), so
 * the unmodified AWS SDK clients work through it when their endpoint is the proxy's URL.
 */
export async function startFaultProxy(options: { upstream?: string } = {}): Promise<FaultProxy> {
  let upstream = options.upstream ? new URL(options.upstream) : undefined;
  const agent = new Agent({ keepAlive: true });
  const rules: Array<{ spec: FaultSpec; remaining: number; served: number }> = [];
  const holds: Array<{
    match: (request: ProxiedRequest) => boolean;
    remaining: number;
    held: number;
    released: Promise<void>;
    onHeld: () => void;
    release: () => void;
  }> = [];
  const counters = { passed: 0, faulted: 0, errors: 0 };
  const entries: ProxyLogEntry[] = [];
  const record = (entry: ProxyLogEntry): void => {
    entries.push(entry);
    if (entries.length > LOG_LIMIT) entries.splice(0, entries.length - LOG_LIMIT);
  };

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> => {
    const base = upstream;
    if (!base) return Promise.reject(new Error('fault proxy has no upstream yet'));
    const headers: OutgoingHttpHeaders = { ...req.headers, host: base.host, 'content-length': String(body.length) };
    delete headers.connection;
    delete headers['transfer-encoding'];
    const prefix = base.pathname.replace(/\/$/, '');
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          agent,
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method: req.method,
          path: `${prefix}${req.url ?? '/'}`,
          headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }),
          );
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  };

  const sendFault = (res: ServerResponse, spec: FaultSpec): void => {
    const payload =
      spec.body === undefined ? '' : typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
    res.writeHead(spec.status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      ...spec.headers,
    });
    res.end(payload);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = req.headers['x-amz-target'];
    const proxied: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      target: typeof target === 'string' ? target : undefined,
      body: body.toString('utf8'),
    };
    const base = { method: proxied.method, path: proxied.path, target: proxied.target, body: proxied.body };
    const hold = holds.find((candidate) => candidate.remaining > 0 && candidate.match(proxied));
    if (hold) {
      hold.remaining--;
      hold.held++;
      hold.onHeld();
      await hold.released;
    }
    const rule = rules.find((candidate) => candidate.remaining > 0 && (candidate.spec.match?.(proxied) ?? true));
    if (rule) {
      // Claimed before any await, so concurrent requests never overdraw a rule.
      rule.remaining--;
      rule.served++;
      counters.faulted++;
      if (rule.spec.afterForward) await forward(req, body).catch(() => undefined);
      record({ ...base, outcome: 'faulted', status: rule.spec.status, forwarded: rule.spec.afterForward === true });
      sendFault(res, rule.spec);
      return;
    }
    try {
      const answer = await forward(req, body);
      counters.passed++;
      record({ ...base, outcome: 'passed', status: answer.status, forwarded: true });
      const headers: OutgoingHttpHeaders = { ...answer.headers, 'content-length': String(answer.body.length) };
      delete headers.connection;
      delete headers['transfer-encoding'];
      delete headers['keep-alive'];
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    } catch (error) {
      counters.errors++;
      record({ ...base, outcome: 'error', status: 502, forwarded: false });
      sendFault(res, { status: 502, body: { message: `fault proxy: ${(error as Error).message}` } });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      counters.errors++;
      if (!res.headersSent) sendFault(res, { status: 502, body: { message: String(error) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setUpstream(url) {
      upstream = new URL(url);
    },
    failNext(count, spec) {
      const rule = { spec, remaining: count, served: 0 };
      rules.push(rule);
      return {
        spec,
        get served() {
          return rule.served;
        },
        get remaining() {
          return rule.remaining;
        },
        cancel() {
          rule.remaining = 0;
        },
      };
    },
    holdNext(count, match) {
      let release = (): void => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let caughtAll = (): void => {};
      const caught = new Promise<void>((resolve) => {
        caughtAll = resolve;
      });
      const hold = {
        match,
        remaining: count,
        held: 0,
        released,
        onHeld: () => {
          if (hold.held >= count) caughtAll();
        },
        release: () => {
          hold.remaining = 0;
          release();
        },
      };
      holds.push(hold);
      return {
        get held() {
          return hold.held;
        },
        caught: () => caught,
        release: hold.release,
      };
    },
    clearFaults() {
      for (const rule of rules) rule.remaining = 0;
    },
    stats: () => ({ ...counters }),
    log: () => [...entries],
    close() {
      for (const hold of holds) hold.release();
      agent.destroy();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------- faults and matchers

const DYNAMODB_ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
const AMZ_JSON_1_0 = { 'content-type': 'application/x-amz-json-1.0' };

/** DynamoDB's 400 throttling answer (the SDK retries it with throttling backoff). */
export function dynamoDbThrottling(match?: FaultSpec['match']): FaultSpec {
  return {
    status: 400,
    headers: AMZ_JSON_1_0,
    body: { __type: `${DYNAMODB_ERROR_PREFIX}ThrottlingException`, message: 'Rate exceeded' },
    ...(match ? { match } : {}),
  };
}

/** DynamoDB's 500 (the SDK retries it as a transient error). */
export function dynamoDbInternalError(match?: FaultSpec['match']): FaultSpec {
  return {
    status: 500,
    headers: AMZ_JSON_1_0,
    body: { __type: `${DYNAMODB_ERROR_PREFIX}InternalServerError` },
    ...(match ? { match } : {}),
  };
}

/** An @connections error as API Gateway sends it: the type travels in `x-amzn-errortype`. */
export function managementApiError(status: number, errorType: string, match?: FaultSpec['match']): FaultSpec {
  return {
    status,
    headers: { 'x-amzn-errortype': errorType },
    body: { message: errorType },
    ...(match ? { match } : {}),
  };
}

/** Matches one DynamoDB operation, e.g. `TransactWriteItems`, optionally only when its body contains `needle`. */
export function dynamoDbOperation(operation: string, needle?: string): (request: ProxiedRequest) => boolean {
  return (request) =>
    request.target === `DynamoDB_20120810.${operation}` && (needle === undefined || request.body.includes(needle));
}

/** The connection id of an `@connections/{id}` path (with or without a stage prefix). */
export function connectionIdOf(path: string): string | undefined {
  const match = /\/@connections\/([^/?]+)/.exec(path);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

/**
 * Matches postToConnection calls, optionally to one connection and only for a body containing
 * `needle` (e.g. a messageId, so presence frames to the same connection pass).
 */
export function postToConnection(connectionId?: string, needle?: string): (request: ProxiedRequest) => boolean {
  return (request) =>
    request.method === 'POST' &&
    connectionIdOf(request.path) !== undefined &&
    (connectionId === undefined || connectionIdOf(request.path) === connectionId) &&
    (needle === undefined || request.body.includes(needle));
}
