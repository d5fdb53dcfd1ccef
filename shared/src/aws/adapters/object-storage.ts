import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStorage } from '#core/ports';

/** `attachment; filename*=UTF-8''…` (RFC 6266): any name, safely quoted. */
const contentDisposition = (fileName: string) =>
  `attachment; filename*=UTF-8''${encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;

/**
 * ObjectStorage on one S3 bucket. A presigned URL carries the signing role's permissions, so the
 * function that presigns needs s3:PutObject (uploads) or s3:GetObject (downloads) on the key itself.
 */
export function createObjectStorage(client: S3Client, bucket: string): ObjectStorage {
  return {
    async presignUpload(key, file, expiresInSeconds) {
      const expiresAt = new Date(Date.now() + expiresInSeconds * 1000).toISOString();
      // Signing Content-Length and Content-Type makes S3 itself refuse an upload of another size or type.
      const url = await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: file.contentType, ContentLength: file.size }),
        { expiresIn: expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length']) },
      );
      return { url, method: 'PUT', headers: { 'Content-Type': file.contentType }, expiresAt };
    },

    async presignDownload(key, file, expiresInSeconds) {
      const expiresAt = new Date(Date.now() + expiresInSeconds * 1000).toISOString();
      const url = await getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ResponseContentType: file.contentType,
          ResponseContentDisposition: contentDisposition(file.fileName),
        }),
        { expiresIn: expiresInSeconds },
      );
      return { url, expiresAt };
    },

    async copy(fromKey, toKey) {
      try {
        await client.send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: `${bucket}/${fromKey}` }));
        return true;
      } catch (error) {
        if (error instanceof Error && error.name === 'NoSuchKey') return false;
        throw error;
      }
    },
  };
}
