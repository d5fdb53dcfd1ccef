/**
 * What one postToConnection costs the caller: CPU time per post, measured in a child process that
 * sends `--posts` posts (32 at a time, as PostToConnectionsFunction does) to a stub @connections
 * endpoint served by the parent. Variants isolate the SDK client and the X-Ray SDK that the
 * Powertools Tracer loads (its cls-hooked namespace adds async hooks to every promise, unless
 * AWS_XRAY_MANUAL_MODE is set before it loads).
 *
 *   npx tsx bench/post-cost.ts [--posts 5000] [--rounds 3]
 */
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export type PostCostVariant =
  | 'http'
  | 'signed'
  | 'poster'
  | 'sdk'
  | 'sdk+cache'
  | 'sdk+xray'
  | 'sdk+xray-manual'
  | 'sdk+tracing';

export interface PostCost {
  variant: PostCostVariant;
  posts: number;
  /** Client-process CPU (user + system) per post, µs: the median over rounds. */
  cpuMicrosPerPost: number;
  postsPerSecond: number;
  /** Each round's CPU µs per post, in round order. */
  rounds: number[];
}

const CONCURRENCY = 32;
const self = fileURLToPath(import.meta.url);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/**
 * Runs every variant in its own child process against one stub endpoint, `rounds` times with the
 * order reversed every other round (CPU time on a shared machine drifts), and returns the medians.
 */
export async function measurePostCost(posts: number, variants: PostCostVariant[], rounds = 3): Promise<PostCost[]> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const samples = new Map<PostCostVariant, Array<{ cpu: number; rate: number }>>(variants.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const result = await runChild(variant, posts, endpoint);
        samples.get(variant)?.push({ cpu: result.cpuMicrosPerPost, rate: result.postsPerSecond });
      }
    }
    return variants.map((variant) => {
      const list = samples.get(variant) ?? [];
      return {
        variant,
        posts,
        cpuMicrosPerPost: median(list.map((sample) => sample.cpu)),
        postsPerSecond: median(list.map((sample) => sample.rate)),
        rounds: list.map((sample) => Math.round(sample.cpu)),
      };
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function runChild(variant: PostCostVariant, posts: number, endpoint: string): Promise<PostCost> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', self, '--child', variant, '--posts', String(posts), '--endpoint', endpoint],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), 300_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`post-cost child ${variant} exited ${code}: ${output.slice(-500)}`));
      else resolve(JSON.parse(line) as PostCost);
    });
  });
}

async function child(variant: PostCostVariant, posts: number, endpoint: string): Promise<PostCost> {
  const body = JSON.stringify({ type: 'message', room: 'bench', message: 'x'.repeat(120), messageId: 'm' });
  let post: (index: number) => Promise<void>;
  if (variant === 'http') {
    // The floor: an unsigned HTTP POST with keep-alive, what any client must at least do.
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    post = (index) =>
      new Promise((resolve, reject) => {
        const req = request(
          `${endpoint}/@connections/c${index}`,
          { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
  } else if (variant === 'poster') {
    // What the functions use: shared/src/aws/clients/connections-poster.ts (signed POST, SDK retry rules).
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    const { connectionsPoster } = await import('../shared/src/aws/clients/connections-poster.js');
    const poster = connectionsPoster(endpoint);
    post = (index) => poster.post(`c${index}`, body);
  } else if (variant === 'signed') {
    // A SigV4-signed POST (the SDK's own signer) over a keep-alive agent: what the SDK client must do
    // at least, without its middleware stack, endpoint rules and retry bookkeeping.
    const { Agent } = await import('node:http');
    const { createHash, createHmac } = await import('node:crypto');
    const { SignatureV4 } = await import('@smithy/signature-v4');
    class Sha256 {
      readonly #hash;
      constructor(secret?: unknown) {
        this.#hash =
          typeof secret === 'string' || secret instanceof Uint8Array
            ? createHmac('sha256', secret)
            : createHash('sha256');
      }
      update(data: unknown) {
        if (typeof data === 'string' || data instanceof Uint8Array) this.#hash.update(data);
      }
      async digest() {
        return new Uint8Array(this.#hash.digest());
      }
      reset() {}
    }
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      sha256: Sha256,
    });
    const url = new URL(endpoint);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    post = async (index) => {
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: `/@connections/c${index}`,
        query: {},
        headers: {
          host: url.host,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
      });
      await new Promise<void>((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, path: signed.path, method: 'POST', agent, headers: signed.headers },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    };
  } else {
    // What shared/src/aws/observability.ts does in every function: the Powertools Tracer loads the X-Ray SDK.
    if (variant.startsWith('sdk+x') || variant === 'sdk+tracing') await import('aws-xray-sdk-core');
    const { ApiGatewayManagementApiClient, PostToConnectionCommand } = await import(
      '@aws-sdk/client-apigatewaymanagementapi'
    );
    const client = new ApiGatewayManagementApiClient({
      endpoint,
      region: 'us-east-1',
      maxAttempts: 3,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // As shared/src/aws/clients/management-api.ts builds it (the traced variant too, as on Lambda);
      // the others measure the SDK's default, which rebuilds the middleware chain on every send.
      cacheMiddleware: variant === 'sdk+cache' || variant === 'sdk+tracing',
    });
    if (variant === 'sdk+tracing') {
      // As shared/src/aws/clients/management-api.ts does: the Powertools Tracer wraps the client.
      const { Tracer } = await import('@aws-lambda-powertools/tracer');
      new Tracer({ serviceName: 'bench' }).captureAWSv3Client(client);
    }
    post = async (index) => {
      await client.send(new PostToConnectionCommand({ ConnectionId: `c${index}`, Data: body }));
    };
  }
  // Warm-up: connection pool, JIT, lazy SDK modules.
  for (let index = 0; index < 500; index++) await post(index);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < posts) await post(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuMicrosPerPost = (used.user + used.system) / posts;
  return { variant, posts, cpuMicrosPerPost, postsPerSecond: posts / seconds, rounds: [cpuMicrosPerPost] };
}

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    posts: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    endpoint: { type: 'string' },
  },
  strict: false,
});

if (process.argv[1] === self) {
  if (typeof values.child === 'string') {
    child(values.child as PostCostVariant, Number(values.posts), String(values.endpoint)).then(
      (result) => {
        console.log(JSON.stringify(result));
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else {
    measurePostCost(Number(values.posts), [
      'http',
      'signed',
      'poster',
      'sdk',
      'sdk+cache',
      'sdk+xray',
      'sdk+xray-manual',
      'sdk+tracing',
    ]).then((results) => {
      for (const result of results) {
        console.log(
          `${result.variant.padEnd(16)} ${result.cpuMicrosPerPost.toFixed(0).padStart(5)} µs CPU/post (rounds ${result.rounds.join(', ')}), ${result.postsPerSecond.toFixed(0)} posts/s`,
        );
      }
    });
  }
}
