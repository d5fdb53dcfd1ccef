import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readBody } from '../aws-protocol.js';
import type { LocalIam } from '../iam/authorizer.js';
import { credentialsForRole, OPERATOR_ROLE, roleForAccessKeyId } from '../iam/credentials.js';
import type { Principal } from '../iam/policy.js';
import { listen } from '../listen.js';
import { type CorsRule, corsHeaders, preflight } from './cors.js';
import { S3Error, sendS3Error, xmlDocument } from './errors.js';
import { UNSIGNED_PAYLOAD, verifySignature } from './sigv4-verifier.js';

export interface LocalBucket {
  name: string;
  cors: CorsRule[];
}

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
}

export interface LocalS3Options {
  host: string;
  port: number;
  /** The templates' buckets; a request for any other answers NoSuchBucket. */
  buckets: LocalBucket[];
  iam: LocalIam;
  /** Largest object accepted (S3's single PUT takes 5 GB; objects live in memory here). Default 100 MB. */
  maxObjectBytes?: number;
  /** All objects together; a PUT past it is refused. Default 512 MB. */
  maxTotalBytes?: number;
  /** The clock presigned URLs expire by (tests move it forward). Default Date.now. */
  now?: () => number;
  log?: (message: string, extra?: object) => void;
}

export interface LocalS3 {
  url: string;
  port: number;
  /** The objects a bucket holds now, by key (tests check what was, or was not, stored). */
  objects(bucket: string): Map<string, StoredObject>;
  close(): Promise<void>;
}

const ROLE_SECRET = credentialsForRole(OPERATOR_ROLE).secretAccessKey;

/**
 * A local S3 for the templates' buckets, path-style (`/BUCKET/KEY`), objects in memory: PutObject,
 * CopyObject, GetObject, HeadObject and CORS preflights. Every request is authenticated as S3 does it
 * (sigv4-verifier.ts: header or presigned query, expiry, content-length and content-type when signed)
 * and authorised for the signing role through local/iam, as a presigned URL carries its signer's
 * permissions: a function that may not s3:PutObject on a key cannot presign an upload to it either.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const { iam } = options;
  const log = options.log ?? (() => {});
  const maxObjectBytes = options.maxObjectBytes ?? 100 * 1024 * 1024;
  const maxTotalBytes = options.maxTotalBytes ?? 512 * 1024 * 1024;
  const buckets = new Map(options.buckets.map((bucket) => [bucket.name, bucket]));
  const store = new Map(options.buckets.map((bucket) => [bucket.name, new Map<string, StoredObject>()]));
  let totalBytes = 0;

  const principalFor = (accessKeyId: string): Principal | undefined => {
    const roleName = roleForAccessKeyId(accessKeyId);
    if (roleName !== undefined && (roleName === OPERATOR_ROLE || iam.model.roles.has(roleName))) {
      return iam.rolePrincipal(roleName);
    }
    return undefined;
  };

  const authorize = (principal: Principal | undefined, action: string, bucket: string, key: string) => {
    if (principal) iam.count(principal, action);
    if (iam.mode === 'off') return;
    // The bucket is private and blocks public access: an unsigned request gets S3's bare denial.
    if (!principal) throw new S3Error('AccessDenied', 'Access Denied', 403);
    try {
      iam.authorize(principal, [{ action, resource: `arn:aws:s3:::${bucket}/${key}` }], {
        status: 403,
        messageKey: 'Message',
      });
    } catch (error) {
      throw new S3Error('AccessDenied', error instanceof Error ? error.message : 'Access Denied', 403);
    }
  };

  const objectOf = (bucket: string, key: string): StoredObject => {
    const found = store.get(bucket)?.get(key);
    if (!found) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
    return found;
  };

  const putObject = (bucket: string, key: string, object: StoredObject) => {
    const objects = store.get(bucket) as Map<string, StoredObject>;
    const previous = objects.get(key)?.body.length ?? 0;
    if (totalBytes - previous + object.body.length > maxTotalBytes) {
      throw new S3Error('ServiceUnavailable', 'The local S3 is full (maxTotalBytes); restart the stack.', 503);
    }
    totalBytes += object.body.length - previous;
    objects.set(key, object);
  };

  const objectHeaders = (object: StoredObject) => ({
    'content-type': object.contentType,
    'content-length': String(object.body.length),
    etag: object.etag,
    'last-modified': object.lastModified.toUTCString(),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    const bucket = buckets.get(bucketName);
    if (!bucket)
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucketName });

    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    if (method === 'OPTIONS') {
      const headers = preflight(bucket.cors, req.headers);
      res.writeHead(200, headers);
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(corsHeaders(bucket.cors, origin, method))) res.setHeader(name, value);
    if (!key) throw new S3Error('NotImplemented', 'Bucket operations are not implemented locally', 501);

    const signed = verifySignature(
      { method, rawPath, query: [...url.searchParams.entries()], headers: req.headers },
      {
        secretFor: (accessKeyId) => (principalFor(accessKeyId) || iam.mode === 'off' ? ROLE_SECRET : undefined),
        now: (options.now ?? Date.now)(),
      },
    );
    const principal = signed ? principalFor(signed.accessKeyId) : undefined;

    if (method === 'GET' || method === 'HEAD') {
      authorize(principal, 's3:GetObject', bucket.name, key);
      const object = objectOf(bucket.name, key);
      // A signed GET may override these response headers (response-content-type, response-content-disposition).
      const overrides = Object.fromEntries(
        ['content-type', 'content-disposition']
          .map((name) => [name, url.searchParams.get(`response-${name}`)] as const)
          .filter((entry): entry is readonly [string, string] => entry[1] !== null && signed !== undefined),
      );
      res.writeHead(200, { ...objectHeaders(object), ...overrides });
      res.end(method === 'HEAD' ? undefined : object.body);
      return;
    }
    if (method !== 'PUT') throw new S3Error('NotImplemented', `${method} is not implemented locally`, 501);

    const copySource = req.headers['x-amz-copy-source'];
    if (typeof copySource === 'string') {
      const source = decodeURIComponent(copySource.replace(/^\//, '').split('?')[0] ?? '');
      const slash = source.indexOf('/');
      const sourceBucket = source.slice(0, slash);
      const sourceKey = source.slice(slash + 1);
      if (!buckets.has(sourceBucket)) {
        throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: sourceBucket });
      }
      authorize(principal, 's3:GetObject', sourceBucket, sourceKey);
      authorize(principal, 's3:PutObject', bucket.name, key);
      const original = objectOf(sourceBucket, sourceKey);
      const copy = { ...original, lastModified: new Date() };
      putObject(bucket.name, key, copy);
      const body = xmlDocument('CopyObjectResult', {
        LastModified: copy.lastModified.toISOString(),
        ETag: copy.etag,
      });
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }

    authorize(principal, 's3:PutObject', bucket.name, key);
    const declaredLength = req.headers['content-length'];
    if (declaredLength === undefined) {
      throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411);
    }
    if (Number(declaredLength) > maxObjectBytes) {
      throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
        ProposedSize: String(declaredLength),
        MaxSizeAllowed: String(maxObjectBytes),
      });
    }
    const { body } = await readBody(req, maxObjectBytes);
    if (signed && !signed.presigned && signed.payloadHash !== UNSIGNED_PAYLOAD) {
      if (signed.payloadHash.startsWith('STREAMING-')) {
        throw new S3Error('NotImplemented', 'aws-chunked uploads are not implemented locally', 501);
      }
      if (createHash('sha256').update(body).digest('hex') !== signed.payloadHash) {
        throw new S3Error(
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          400,
        );
      }
    }
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    putObject(bucket.name, key, {
      body,
      contentType:
        typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : 'binary/octet-stream',
      etag,
      lastModified: new Date(),
    });
    res.writeHead(200, { etag, 'content-length': '0' });
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof S3Error) {
        log(`s3: ${req.method} ${req.url?.split('?')[0]} refused: ${error.code}`, { message: error.message });
        sendS3Error(res, error, req.method);
        return;
      }
      sendS3Error(res, new S3Error('InternalError', String(error), 500), req.method);
    });
  });
  const { port } = await listen(server, options.port, options.host);
  return {
    url: `http://${options.host}:${port}`,
    port,
    objects: (bucket) => new Map(store.get(bucket) ?? []),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
