import { NonRetryableFetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwksFetcher } from '#api/auth/identity-resolver';
import { type LocalTokenIssuer, startTokenIssuer } from '../../../../local/auth/token-issuer.js';

type Handler = (event: unknown) => Promise<unknown>;

let issuer: LocalTokenIssuer;
let authorize: Handler;
const savedEnv = { ...process.env };

const webSocketEvent = (token?: string) => ({
  type: 'REQUEST',
  methodArn: 'arn:aws:execute-api:us-east-1:000000000000:api/prod/$connect',
  queryStringParameters: token === undefined ? {} : { token },
  headers: {},
});

const httpEvent = (authorization?: string) => ({
  version: '2.0',
  type: 'REQUEST',
  routeArn: 'arn:aws:execute-api:us-east-1:000000000000:api/$default/GET/rooms',
  headers: authorization === undefined ? {} : { authorization },
  queryStringParameters: {},
});

beforeAll(async () => {
  issuer = await startTokenIssuer({ port: 0 });
  // The settings `startLocalStack` passes the handlers; the verifier reads them once, on first use.
  Object.assign(process.env, {
    AUTH_MODE: 'cognito',
    JWT_ISSUER: issuer.issuer,
    JWT_JWKS_URI: issuer.jwksUri,
    JWT_AUDIENCE: issuer.audience,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler: authorize } = (await import('#api/handlers/authorizer')) as { handler: Handler });
});

afterAll(async () => {
  process.env = savedEnv;
  await issuer?.close();
});

describe('the authorizer with the local token issuer', () => {
  it("allows a WebSocket $connect with the issuer's token, with the token's identity", async () => {
    const result = await authorize(webSocketEvent(issuer.mint({ sub: 'alice', username: 'Alice' })));
    expect(result).toMatchObject({
      principalId: 'alice',
      context: { userId: 'alice', userName: 'Alice' },
      policyDocument: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke' }] },
    });
  });

  it.each([
    ['no token', () => undefined],
    ['an expired token', () => issuer.mint({ sub: 'alice', expiresInSeconds: -5 })],
    ['a token signed by another key', () => issuer.mintWithForeignKey({ sub: 'alice' })],
    [
      'a token for another user pool',
      () => issuer.mint({ sub: 'alice', issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' }),
    ],
    ['a token for another app client', () => issuer.mint({ sub: 'alice', audience: 'another-client' })],
    ['an unsigned token', () => unsigned(issuer.mint({ sub: 'alice' }))],
    ['garbage', () => 'not.a.jwt'],
  ])('refuses a WebSocket $connect with %s as API Gateway expects (Unauthorized → 401)', async (_name, token) => {
    await expect(authorize(webSocketEvent(token()))).rejects.toThrow(/^Unauthorized$/);
  });

  it('answers the HTTP API with a simple response, from the bearer token', async () => {
    const good = await authorize(httpEvent(`Bearer ${issuer.mint({ sub: 'bob' })}`));
    expect(good).toEqual({ isAuthorized: true, context: { userId: 'bob', userName: 'bob' } });
    expect(await authorize(httpEvent())).toEqual({ isAuthorized: false });
    expect(await authorize(httpEvent(`Bearer ${issuer.mintWithForeignKey({ sub: 'bob' })}`))).toEqual({
      isAuthorized: false,
    });
  });
});

describe('the JWKS fetcher', () => {
  const httpsOnly: Fetcher = { fetch: async () => new TextEncoder().encode('{"keys":[]}').buffer as ArrayBuffer };

  it('fetches over http from loopback', async () => {
    const body = await jwksFetcher(httpsOnly).fetch(issuer.jwksUri);
    expect(JSON.parse(Buffer.from(body).toString('utf8')).keys).toHaveLength(1);
  });

  it('refuses http from anywhere but loopback, without a request', async () => {
    await expect(jwksFetcher(httpsOnly).fetch('http://192.0.2.10/.well-known/jwks.json')).rejects.toBeInstanceOf(
      NonRetryableFetchError,
    );
    await expect(jwksFetcher(httpsOnly).fetch('http://127.0.0.1.nip.io/jwks.json')).rejects.toBeInstanceOf(
      NonRetryableFetchError,
    );
  });

  it('leaves https to the library fetcher', async () => {
    const body = await jwksFetcher(httpsOnly).fetch('https://cognito-idp.us-east-1.amazonaws.com/x/jwks.json');
    expect(Buffer.from(body).toString('utf8')).toBe('{"keys":[]}');
  });

  it('treats a non-200 JWKS answer as final', async () => {
    await expect(jwksFetcher(httpsOnly).fetch(`${issuer.url}/missing`)).rejects.toBeInstanceOf(NonRetryableFetchError);
  });
});

/** The `alg: none` attack: same claims, header says unsigned, no signature. */
function unsigned(token: string): string {
  const [, payload] = token.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
}
