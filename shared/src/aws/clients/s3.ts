import { S3Client } from '@aws-sdk/client-s3';
import { tracer } from '../observability.js';

let client: S3Client | undefined;

/**
 * The container's S3 client, built once and traced. Checksums only where S3 requires them: by default
 * the SDK would put a CRC32 of the (empty) body it presigns into a presigned PUT's query string, and S3
 * would refuse the real upload for not matching it. The endpoint comes from AWS_ENDPOINT_URL_S3 when
 * set; an IP-address endpoint (the local stack) makes the SDK address buckets path-style on its own.
 */
export function s3(): S3Client {
  client ??= tracer.captureAWSv3Client(new S3Client({ maxAttempts: 3, requestChecksumCalculation: 'WHEN_REQUIRED' }));
  return client;
}
