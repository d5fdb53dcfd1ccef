import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.js';

/**
 * SigV4 verification as S3 does it, for both ways a request can carry a signature: the Authorization
 * header (the SDK's own calls) and the query string (presigned URLs). The canonical request is rebuilt
 * from what actually arrived (method, path, query, the headers the signer listed, the payload hash), so
 * a URL with a changed parameter, or a PUT whose Content-Length or Content-Type differs from the signed
 * one, computes another signature and is refused with SignatureDoesNotMatch. A presigned URL past
 * X-Amz-Date + X-Amz-Expires is refused with AccessDenied "Request has expired".
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */

const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** S3 refuses a presigned URL valid for longer than seven days. */
const MAX_EXPIRES_SECONDS = 604_800;

export interface SignedRequest {
  method: string;
  /** The path exactly as sent (still URI-encoded): S3 signs it without encoding it again. */
  rawPath: string;
  /** Decoded query parameters, in arrival order. */
  query: Array<[string, string]>;
  headers: IncomingHttpHeaders;
}

export interface VerifiedSignature {
  accessKeyId: string;
  /** Presigned (query string) or Authorization header. */
  presigned: boolean;
  /** For header-signed requests: the declared payload hash, which the caller checks against the body. */
  payloadHash: string;
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const rfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(query: Array<[string, string]>, skip: string | undefined): string {
  return query
    .filter(([key]) => key !== skip)
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ');
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function signature(
  secret: string,
  scope: { date: string; region: string; service: string },
  amzDate: string,
  canonicalRequest: string,
) {
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `YYYYMMDDTHHMMSSZ` to epoch milliseconds, or NaN. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function parseCredential(credential: string) {
  const [accessKeyId, date, region, service, terminator] = credential.split('/');
  if (!accessKeyId || !date || !region || service !== 's3' || terminator !== 'aws4_request') {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      400,
    );
  }
  return { accessKeyId, scope: { date, region, service } };
}

export interface VerifyOptions {
  /** The secret of an access key, or undefined when no such key exists (InvalidAccessKeyId). */
  secretFor: (accessKeyId: string) => string | undefined;
  now?: number;
}

/**
 * Checks a request's SigV4 signature; returns who signed it, or undefined for an anonymous request.
 * @throws S3Error as S3 answers: SignatureDoesNotMatch, AccessDenied (expired), InvalidAccessKeyId,
 *   AuthorizationQueryParametersError.
 */
export function verifySignature(request: SignedRequest, options: VerifyOptions): VerifiedSignature | undefined {
  const params = new Map(request.query);
  const authorization = headerValue(request.headers, 'authorization');
  const presigned = params.has('X-Amz-Signature') || params.has('X-Amz-Credential') || params.has('X-Amz-Algorithm');
  if (!presigned && authorization === undefined) return undefined;

  let accessKeyId: string;
  let scope: { date: string; region: string; service: string };
  let signedHeaders: string[];
  let givenSignature: string;
  let amzDate: string;
  let payloadHash: string;
  if (presigned) {
    const required = [
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Signature',
      'X-Amz-Date',
      'X-Amz-SignedHeaders',
      'X-Amz-Expires',
    ];
    if (required.some((name) => !params.get(name))) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
        400,
      );
    }
    if (params.get('X-Amz-Algorithm') !== ALGORITHM) {
      throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', 400);
    }
    ({ accessKeyId, scope } = parseCredential(String(params.get('X-Amz-Credential'))));
    signedHeaders = String(params.get('X-Amz-SignedHeaders')).split(';');
    givenSignature = String(params.get('X-Amz-Signature'));
    amzDate = String(params.get('X-Amz-Date'));
    payloadHash = UNSIGNED_PAYLOAD;
    const expires = Number(params.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 0 || expires > MAX_EXPIRES_SECONDS) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        'X-Amz-Expires must be less than a week (in seconds) that is 604800',
        400,
      );
    }
  } else {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$/.exec(
      String(authorization),
    );
    if (!m) {
      throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', 400);
    }
    ({ accessKeyId, scope } = parseCredential(String(m[1])));
    signedHeaders = String(m[2]).split(';');
    givenSignature = String(m[3]);
    amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
    const declared = headerValue(request.headers, 'x-amz-content-sha256');
    if (declared === undefined) {
      throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400);
    }
    payloadHash = declared;
  }

  const secret = options.secretFor(accessKeyId);
  if (secret === undefined) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403, {
      AWSAccessKeyId: accessKeyId,
    });
  }
  if (!signedHeaders.includes('host')) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the host header to be signed.',
      400,
    );
  }
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${headerValue(request.headers, name) ?? ''}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    request.rawPath,
    canonicalQuery(request.query, presigned ? 'X-Amz-Signature' : undefined),
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const expected = signature(secret, scope, amzDate, canonicalRequest);
  if (!sameSignature(expected, givenSignature)) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      403,
      { AWSAccessKeyId: accessKeyId },
    );
  }

  const signedAt = parseAmzDate(amzDate);
  const now = options.now ?? Date.now();
  if (presigned) {
    const expiresAt = signedAt + Number(params.get('X-Amz-Expires')) * 1000;
    if (!(now <= expiresAt)) {
      throw new S3Error('AccessDenied', 'Request has expired', 403, {
        'X-Amz-Expires': String(params.get('X-Amz-Expires')),
        Expires: new Date(expiresAt).toISOString(),
        ServerTime: new Date(now).toISOString(),
      });
    }
  } else if (!(Math.abs(now - signedAt) <= 15 * 60 * 1000)) {
    // S3 allows a header-signed request 15 minutes of clock skew.
    throw new S3Error(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      403,
    );
  }
  return { accessKeyId, presigned, payloadHash };
}
