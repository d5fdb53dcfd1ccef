import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIam } from '../../../../local/iam/authorizer.js';
import { credentialsForRole } from '../../../../local/iam/credentials.js';
import type { IamRole, LocalIamModel } from '../../../../local/iam/roles.js';
import { type LocalS3, startLocalS3 } from '../../../../local/s3/server.js';

const account = '000000000000';
const bucket = 'attachmentsbucket';
const role = (name: string, statements: IamRole['policies'][number]['Statement']): [string, IamRole] => [
  name,
  {
    name,
    arn: `arn:aws:iam::${account}:role/${name}`,
    sessionArn: `arn:aws:sts::${account}:assumed-role/${name}/${name}`,
    samLogicalId: name,
    templatePath: 'template.yaml',
    managedPolicyArns: [],
    inlinePolicies: [],
    policies: [{ Statement: statements }],
  },
];
const model: LocalIamModel = {
  roles: new Map([
    role('signer-role', [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: [`arn:aws:s3:::${bucket}/uploads/*`, `arn:aws:s3:::${bucket}/attachments/*`],
      },
    ]),
    role('reader-role', [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/attachments/*` },
    ]),
  ]),
  resourcePolicies: new Map([
    [
      `arn:aws:s3:::${bucket}`,
      [
        {
          Statement: [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      ],
    ],
  ]),
  stateMachineRoles: new Map(),
  ruleTargetRoles: new Map(),
};

let s3: LocalS3;
const clientAs = (roleName: string) =>
  new S3Client({
    endpoint: s3.url,
    region: 'us-east-1',
    credentials: credentialsForRole(roleName),
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });

const presignPut = (roleName: string, key: string, size: number, type: string, expiresIn = 300) =>
  getSignedUrl(
    clientAs(roleName),
    new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: type, ContentLength: size }),
    { expiresIn, signableHeaders: new Set(['content-type', 'content-length']) },
  );

const errorOf = async (response: Response) => {
  const text = await response.text();
  return {
    status: response.status,
    code: /<Code>([^<]*)</.exec(text)?.[1],
    message: /<Message>([^<]*)</.exec(text)?.[1],
  };
};

beforeAll(async () => {
  s3 = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    buckets: [
      {
        name: bucket,
        cors: [
          { AllowedOrigins: ['http://app.example'], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['content-type'] },
        ],
      },
    ],
    iam: new LocalIam({ model, mode: 'enforce', accountId: account }),
    maxObjectBytes: 1024,
  });
});
afterAll(() => s3.close());

describe('local S3', () => {
  it('takes an upload through a URL presigned by the SDK, and serves it through a presigned GET', async () => {
    const body = Buffer.from('\x89PNG fake image');
    const url = await presignPut('signer-role', 'uploads/a1', body.length, 'image/png');
    const put = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(200);
    expect(s3.objects(bucket).get('uploads/a1')?.contentType).toBe('image/png');

    await clientAs('signer-role').send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'attachments/a1', CopySource: `${bucket}/uploads/a1` }),
    );
    const head = await clientAs('reader-role').send(new HeadObjectCommand({ Bucket: bucket, Key: 'attachments/a1' }));
    expect([head.ContentLength, head.ContentType]).toEqual([body.length, 'image/png']);
    const download = await getSignedUrl(
      clientAs('reader-role'),
      new GetObjectCommand({ Bucket: bucket, Key: 'attachments/a1' }),
      { expiresIn: 60 },
    );
    const got = await fetch(download);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(body);
  });

  it('refuses an upload whose size or type differs from the signed ones, and stores nothing', async () => {
    const url = await presignPut('signer-role', 'uploads/a2', 5, 'image/png');
    const bigger = await fetch(url, { method: 'PUT', body: 'abcdefgh', headers: { 'content-type': 'image/png' } });
    expect(await errorOf(bigger)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    const otherType = await fetch(url, { method: 'PUT', body: 'abcde', headers: { 'content-type': 'text/html' } });
    expect(await errorOf(otherType)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(s3.objects(bucket).has('uploads/a2')).toBe(false);
  });

  it('refuses a tampered URL, an expired one, and a key outside the signer role', async () => {
    const url = await presignPut('signer-role', 'uploads/a3', 5, 'image/png');
    const tampered = url.replace('uploads/a3', 'uploads/a4');
    const put = (target: string) =>
      fetch(target, { method: 'PUT', body: 'abcde', headers: { 'content-type': 'image/png' } });
    expect(await errorOf(await put(tampered))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });

    const old = new Date(Date.now() - 120_000);
    const expired = await getSignedUrl(
      clientAs('signer-role'),
      new PutObjectCommand({ Bucket: bucket, Key: 'uploads/a3', ContentType: 'image/png', ContentLength: 5 }),
      { expiresIn: 60, signingDate: old, signableHeaders: new Set(['content-type', 'content-length']) },
    );
    expect(await errorOf(await put(expired))).toEqual({
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });

    const outside = await presignPut('signer-role', 'elsewhere/a3', 5, 'image/png');
    const refused = await errorOf(await put(outside));
    expect(refused).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(refused.message).toContain('is not authorized to perform: s3:PutObject');
    expect([...s3.objects(bucket).keys()]).toEqual(['uploads/a1', 'attachments/a1']);
  });

  it('refuses unsigned requests, unknown keys and an object over the size cap', async () => {
    expect(await errorOf(await fetch(`${s3.url}/${bucket}/attachments/a1`))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    });
    const stranger = new S3Client({
      endpoint: s3.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' },
    });
    await expect(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'attachments/a1' }))).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
    });
    const big = await presignPut('signer-role', 'uploads/big', 2048, 'image/png');
    const tooLarge = await fetch(big, {
      method: 'PUT',
      body: Buffer.alloc(2048),
      headers: { 'content-type': 'image/png' },
    });
    expect(await errorOf(tooLarge)).toMatchObject({ status: 400, code: 'EntityTooLarge' });
  });

  it("answers CORS preflights from the bucket's rules", async () => {
    const ask = (origin: string, method: string) =>
      fetch(`${s3.url}/${bucket}/uploads/x`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' },
      });
    const allowed = await ask('http://app.example', 'PUT');
    expect([allowed.status, allowed.headers.get('access-control-allow-origin')]).toEqual([200, 'http://app.example']);
    expect((await ask('http://evil.example', 'PUT')).status).toBe(403);
    expect((await ask('http://app.example', 'DELETE')).status).toBe(403);
  });
});
