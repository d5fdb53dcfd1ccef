import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { buildFront, defaultDistDir, isFrontBuildStale } from '../front/build.js';
import { listen } from './listen.js';

export interface FrontServerOptions {
  host?: string;
  /** 0 picks a free port; `npm start` uses 8080. */
  port: number;
  /**
   * Served as /config.json: `{webSocketUrl, restUrl, authMode, cognito?}`. `attachmentsUrl` (the S3
   * endpoint presigned URLs point at) only widens the page's Content-Security-Policy.
   */
  config: object;
  /** The built site; default front/dist. */
  distDir?: string;
  /** Build the site first when it is missing or stale; default true. */
  build?: boolean;
}

export interface FrontServer {
  url: string;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

// esbuild's [name]-[hash] names: safe to cache forever, since a change means a new name.
const HASHED_ASSET = /-[A-Z0-9]{8}\.(js|css)(\.map)?$/;

function origin(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The page may talk to exactly the endpoints its config names (and Cognito): a script that got in
 * anyway could not send data elsewhere.
 */
function contentSecurityPolicy(config: Record<string, unknown>): string {
  const cognito = (config.cognito ?? {}) as Record<string, unknown>;
  const connect = new Set(["'self'"]);
  for (const url of [config.webSocketUrl, config.restUrl, cognito.endpoint]) {
    const value = origin(url);
    if (value) connect.add(value);
  }
  if (typeof cognito.region === 'string') connect.add(`https://cognito-idp.${cognito.region}.amazonaws.com`);
  // Files go to and come from S3 through presigned URLs: uploads are PUTs, previews are images.
  const files = origin(config.attachmentsUrl);
  if (files) connect.add(files);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${files ? ` ${files}` : ''}`,
    `connect-src ${[...connect].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * Serves the browser chat from front/dist plus `/config.json` from `options.config`, on plain
 * node:http: GET and HEAD only, and no path can leave the site directory.
 */
export async function startFrontServer(options: FrontServerOptions): Promise<FrontServer> {
  const distDir = resolve(options.distDir ?? defaultDistDir);
  if (options.build !== false && (await isFrontBuildStale(distDir))) await buildFront({ outDir: distDir });
  const root = await realpath(distDir);
  const configBody = JSON.stringify(options.config);
  const securityHeaders = {
    'content-security-policy': contentSecurityPolicy(options.config as Record<string, unknown>),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...securityHeaders,
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' });
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://front.invalid').pathname);
    } catch {
      send(res, 400, 'Bad Request');
      return;
    }
    if (pathname.includes('\0') || pathname.includes('\\')) {
      send(res, 400, 'Bad Request');
      return;
    }
    if (pathname === '/config.json') {
      send(res, 200, configBody, { 'content-type': contentTypes['.json'] ?? '', 'cache-control': 'no-store' });
      return;
    }
    const relativePath = pathname === '/' ? 'index.html' : pathname.slice(1);
    const candidate = resolve(root, relativePath);
    if (candidate !== root && !candidate.startsWith(root + sep)) {
      send(res, 404, 'Not Found');
      return;
    }
    let file: string;
    try {
      // realpath too: a symlink inside dist must not lead outside it.
      file = await realpath(candidate);
      if (!file.startsWith(root + sep) || !(await stat(file)).isFile()) throw new Error('not a file in the site');
    } catch {
      send(res, 404, 'Not Found');
      return;
    }
    const size = (await stat(file)).size;
    res.writeHead(200, {
      'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
      'content-length': String(size),
      'cache-control': HASHED_ASSET.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...securityHeaders,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  const address = await listen(server, options.port, options.host ?? '127.0.0.1');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
