import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** An S3 error: `<Error><Code>…</Code><Message>…</Message>…</Error>` with S3's status. */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** Extra elements S3 adds for this error (Key, BucketName, X-Amz-Expires…). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

const escapeXml = (value: string) =>
  value.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** S3's XML document for an element tree one level deep. */
export function xmlDocument(root: string, fields: Record<string, string>): string {
  const body = Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${body}</${root}>`;
}

export function sendS3Error(res: ServerResponse, error: S3Error, method = 'GET'): void {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const body = xmlDocument('Error', {
    Code: error.code,
    Message: error.message,
    ...error.details,
    RequestId: requestId,
    HostId: randomBytes(24).toString('base64'),
  });
  res.writeHead(error.status, {
    'content-type': 'application/xml',
    'x-amz-request-id': requestId,
    // A HEAD response has no body, so S3 has nothing but the status to say.
    ...(method === 'HEAD' ? {} : { 'content-length': Buffer.byteLength(body) }),
  });
  res.end(method === 'HEAD' ? undefined : body);
}
