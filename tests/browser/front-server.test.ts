import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFront, isFrontBuildStale } from '../../front/build.js';
import { type FrontServer, startFrontServer } from '../../local/front-server.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http, not fetch: fetch normalises `..` away before a traversal attempt could reach the server. */
function raw(baseUrl: string, path: string, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const config = { webSocketUrl: 'ws://127.0.0.1:3001', restUrl: 'http://127.0.0.1:3000', authMode: 'none' };

describe('front server', () => {
  let server: FrontServer;

  beforeAll(async () => {
    server = await startFrontServer({ port: 0, config });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('builds the site when stale and then considers it fresh', async () => {
    expect(await isFrontBuildStale()).toBe(false);
  });

  it('serves index.html pointing at content-hashed bundles that may be cached forever', async () => {
    const page = await raw(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain('connect-src');
    const script = /src="\.\/(app-[A-Z0-9]{8}\.js)"/.exec(page.body)?.[1];
    const styles = /href="\.\/(styles-[A-Z0-9]{8}\.css)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    expect(styles).toBeDefined();

    const js = await raw(server.url, `/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // No hard-coded endpoints in the bundle: they come from config.json.
    expect(js.body).not.toContain('127.0.0.1');
    const css = await raw(server.url, `/${styles}`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('serves config.json from its options, uncached', async () => {
    const response = await raw(server.url, '/config.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(response.body)).toEqual(config);
  });

  it.each([
    '/../package.json',
    '/%2e%2e/package.json',
    '/..%2fpackage.json',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/front/dist/index.html',
    '/missing.js',
  ])('answers 404 for %s', async (path) => {
    const response = await raw(server.url, path);
    expect(response.status).toBe(404);
    expect(response.body).not.toContain('"name": "switchboard"');
  });

  it('refuses encoded NUL bytes and backslashes, and methods other than GET and HEAD', async () => {
    expect((await raw(server.url, '/index.html%00.js')).status).toBe(400);
    expect((await raw(server.url, '/..%5cpackage.json')).status).toBe(400);
    expect((await raw(server.url, '/%E0%A4%A')).status).toBe(400);
    const post = await raw(server.url, '/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await raw(server.url, '/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });
});

describe('front server on another site directory', () => {
  let dir: string;
  let server: FrontServer | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'front-site-'));
    await mkdir(join(dir, 'site'));
    await writeFile(join(dir, 'site', 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(dir, 'secret.txt'), 'secret');
    await symlink(join(dir, 'secret.txt'), join(dir, 'site', 'leak.txt'));
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('does not follow a symlink out of the site', async () => {
    server = await startFrontServer({ port: 0, config, distDir: join(dir, 'site'), build: false });
    expect((await raw(server.url, '/')).status).toBe(200);
    const leak = await raw(server.url, '/leak.txt');
    expect(leak.status).toBe(404);
    expect(leak.body).not.toContain('secret');
  });

  it('builds into a given directory with a manifest', async () => {
    const result = await buildFront({ outDir: join(dir, 'built'), minify: false });
    expect(result.files).toEqual(
      expect.arrayContaining(['index.html', 'build-manifest.json', expect.stringMatching(/^app-[A-Z0-9]{8}\.js$/)]),
    );
    expect(await isFrontBuildStale(join(dir, 'built'))).toBe(false);
    expect(await isFrontBuildStale(join(dir, 'nowhere'))).toBe(true);
  });
});
