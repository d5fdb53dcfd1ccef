import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * postToConnection as one signed HTTP POST. The SDK client spends about three times a plain signed
 * POST's CPU on each call (middleware stack, endpoint rules, schema serde, user agent: see
 * bench/post-cost.ts and docs/benchmarks.md), and a fan-out makes little else. This keeps the SDK's
 * own signer, credentials and region (read from an ApiGatewayManagementApiClient's resolved config)
 * and its standard retry rules: up to MAX_ATTEMPTS attempts for 429, 5xx and network errors, with
 * full-jitter exponential backoff (base 100 ms, 500 ms when throttled, at most 20 s).
 */
export interface ConnectionsPoster {
  /** Resolves once API Gateway accepted the frame; throws PostToConnectionError otherwise. */
  post(connectionId: string, data: string): Promise<void>;
}

/** A post that failed for good. `name` is API Gateway's error type (GoneException for 410). */
export class PostToConnectionError extends Error {
  constructor(
    override readonly name: string,
    readonly status: number | undefined,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`postToConnection failed: ${name}${status ? ` (${status})` : ''} after ${attempts} attempt(s)`, options);
  }
}

export const MAX_ATTEMPTS = 3;
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const BASE_DELAY_MS = 100;
const THROTTLED_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;
/** A request with no answer for this long is a network error, and retried. */
const SOCKET_TIMEOUT_MS = 10_000;

/** node:crypto behind the Checksum interface SignatureV4 takes (the SDK's Sha256 does the same). */
class Sha256 {
  #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  readonly #secret: string | Uint8Array | undefined;
  constructor(secret?: unknown) {
    this.#secret = typeof secret === 'string' || secret instanceof Uint8Array ? secret : undefined;
    this.#hash = this.#fresh();
  }
  #fresh() {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: unknown): void {
    if (typeof data === 'string' || data instanceof Uint8Array) this.#hash.update(data);
    else if (data instanceof ArrayBuffer) this.#hash.update(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) this.#hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

/** The SDK's label encoding (encodeURIComponent plus !'()*). */
const encodeLabel = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  errorType: string | undefined;
}

function createPoster(endpoint: string): ConnectionsPoster {
  const url = new URL(endpoint);
  const secure = url.protocol === 'https:';
  const basePath = url.pathname.replace(/\/+$/, '');
  // The SDK's NodeHttpHandler defaults: keep-alive, 50 sockets per host.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 50 })
    : new HttpAgent({ keepAlive: true, maxSockets: 50 });
  const send = secure ? httpsRequest : httpRequest;
  // Only its resolved config is used: credentials (memoized, refreshed by the SDK's provider chain) and region.
  const config = new ApiGatewayManagementApiClient({ endpoint }).config;
  let signer: Promise<SignatureV4> | undefined;
  const signerFor = () =>
    (signer ??= config
      .region()
      .then(
        (region) =>
          new SignatureV4({ service: 'execute-api', region, credentials: config.credentials, sha256: Sha256 }),
      ));

  async function attempt(path: string, data: string): Promise<Answer> {
    const signed = await (await signerFor()).sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path,
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(data)),
      },
      body: data,
    });
    return new Promise<Answer>((resolve, reject) => {
      const req = send(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || undefined,
          path,
          method: 'POST',
          headers: signed.headers,
          agent,
          timeout: SOCKET_TIMEOUT_MS,
        },
        (res: IncomingMessage) => {
          // The body is only an error message; the type is in the header. Drain it to free the socket.
          res.resume();
          res.on('end', () => {
            const header = res.headers['x-amzn-errortype'];
            const errorType = (Array.isArray(header) ? header[0] : header)?.split(':')[0];
            resolve({ status: res.statusCode ?? 0, errorType });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('socket timeout')));
      req.on('error', reject);
      req.end(data);
    });
  }

  return {
    async post(connectionId, data) {
      const path = `${basePath}/@connections/${encodeLabel(connectionId)}`;
      for (let attempts = 1; ; attempts++) {
        let answer: Answer;
        try {
          answer = await attempt(path, data);
        } catch (error) {
          if (attempts >= MAX_ATTEMPTS)
            throw new PostToConnectionError('NetworkError', undefined, attempts, { cause: error });
          await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempts));
          continue;
        }
        if (answer.status >= 200 && answer.status < 300) return;
        const name = answer.status === 410 ? 'GoneException' : (answer.errorType ?? `Http${answer.status}`);
        if (!RETRYABLE_STATUS.has(answer.status) || attempts >= MAX_ATTEMPTS) {
          throw new PostToConnectionError(name, answer.status, attempts);
        }
        const base = answer.status === 429 ? THROTTLED_BASE_DELAY_MS : BASE_DELAY_MS;
        await sleep(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** attempts));
      }
    },
  };
}

const posters = new Map<string, ConnectionsPoster>();

/**
 * One poster per endpoint (API + stage), cached for the container's life, like the SDK client it
 * replaces: each endpoint has its own agent and signer, and nothing is shared or mutated across them.
 */
export function connectionsPoster(endpoint: string): ConnectionsPoster {
  let poster = posters.get(endpoint);
  if (!poster) {
    poster = createPoster(endpoint);
    posters.set(endpoint, poster);
  }
  return poster;
}
