import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureError,
} from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cognitoClaims, type LocalTokenIssuer, startTokenIssuer } from '../../../../local/auth/token-issuer.js';

const COGNITO_POOL_ID = 'us-east-1_LocalPool';
const COGNITO_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${COGNITO_POOL_ID}`;

let issuer: LocalTokenIssuer;
let jwks: Jwks;

/** A verifier configured exactly as the authorizer builds it when JWT_ISSUER is set. */
function rsaVerifier(overrides: { audience?: string } = {}) {
  const verifier = JwtRsaVerifier.create({
    issuer: issuer.issuer,
    audience: overrides.audience ?? issuer.audience,
    jwksUri: issuer.jwksUri,
  });
  // aws-jwt-verify fetches over https only; the authorizer's loopback fetcher is tested elsewhere.
  verifier.cacheJwks(jwks);
  return verifier;
}

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')),
  };
}

async function postToken(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await fetch(`${issuer.url}/token`, { method: 'POST', headers, body });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  issuer = await startTokenIssuer({ port: 0 });
  jwks = (await (await fetch(issuer.jwksUri)).json()) as Jwks;
});

afterAll(async () => {
  await issuer?.close();
});

describe('the local token issuer', () => {
  it('publishes one RS256 signing key, at the issuer and at the root', async () => {
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/local-pool$/);
    expect(issuer.jwksUri).toBe(`${issuer.issuer}/.well-known/jwks.json`);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(jwks.keys[0]?.kid).toEqual(expect.any(String));
    const atRoot = await (await fetch(`${issuer.url}/.well-known/jwks.json`)).json();
    expect(atRoot).toEqual(jwks);
    const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery).toMatchObject({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri });
  });

  it('mints Cognito-shaped ID tokens that JwtRsaVerifier accepts', async () => {
    const token = issuer.mint({ sub: 'alice', username: 'Alice' });
    const { header, payload } = decode(token);
    expect(header).toEqual({ kid: jwks.keys[0]?.kid, alg: 'RS256' });
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      sub: 'alice',
      aud: issuer.audience,
      token_use: 'id',
      'cognito:username': 'Alice',
    });
    for (const claim of ['iat', 'exp', 'auth_time']) expect(payload[claim]).toEqual(expect.any(Number));
    expect(payload.jti).toEqual(expect.any(String));
    expect(Number(payload.exp) - Number(payload.iat)).toBe(3600);

    const verified = await rsaVerifier().verify(token);
    expect(verified).toMatchObject({ sub: 'alice', 'cognito:username': 'Alice' });
  });

  it("is accepted by CognitoJwtVerifier exactly as a user pool's tokens are, ID and access alike", async () => {
    const idVerifier = CognitoJwtVerifier.create({ userPoolId: COGNITO_POOL_ID, clientId: 'web', tokenUse: 'id' });
    const accessVerifier = CognitoJwtVerifier.create({
      userPoolId: COGNITO_POOL_ID,
      clientId: 'web',
      tokenUse: 'access',
    });
    idVerifier.cacheJwks(jwks);
    accessVerifier.cacheJwks(jwks);
    const idToken = issuer.mint({ sub: 'bob', issuer: COGNITO_ISSUER, audience: 'web' });
    const accessToken = issuer.mint({ sub: 'bob', issuer: COGNITO_ISSUER, audience: 'web', tokenUse: 'access' });

    expect(await idVerifier.verify(idToken)).toMatchObject({ sub: 'bob', aud: 'web', 'cognito:username': 'bob' });
    expect(await accessVerifier.verify(accessToken)).toMatchObject({
      sub: 'bob',
      client_id: 'web',
      username: 'bob',
      scope: 'aws.cognito.signin.user.admin',
    });
    await expect(idVerifier.verify(accessToken)).rejects.toBeInstanceOf(CognitoJwtInvalidTokenUseError);
    await expect(
      accessVerifier.verify(issuer.mint({ sub: 'bob', issuer: COGNITO_ISSUER, audience: 'other', tokenUse: 'access' })),
    ).rejects.toBeInstanceOf(CognitoJwtInvalidClientIdError);
  });

  it('mints tokens the verifier refuses: expired, another pool, another audience, another key', async () => {
    const verifier = rsaVerifier();
    await expect(verifier.verify(issuer.mint({ sub: 'carol', expiresInSeconds: -60 }))).rejects.toBeInstanceOf(
      JwtExpiredError,
    );
    await expect(verifier.verify(issuer.mint({ sub: 'carol', issuer: COGNITO_ISSUER }))).rejects.toBeInstanceOf(
      JwtInvalidIssuerError,
    );
    await expect(verifier.verify(issuer.mint({ sub: 'carol', audience: 'someone-else' }))).rejects.toBeInstanceOf(
      JwtInvalidAudienceError,
    );
    const forged = issuer.mintWithForeignKey({ sub: 'carol' });
    expect(decode(forged).header.kid).toBe(jwks.keys[0]?.kid);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(JwtInvalidSignatureError);
    // Changing one claim of a good token breaks its signature too.
    const [header, , signature] = issuer.mint({ sub: 'carol' }).split('.');
    const tampered = Buffer.from(JSON.stringify({ ...decode(issuer.mint({ sub: 'carol' })).payload, sub: 'admin' }));
    await expect(verifier.verify(`${header}.${tampered.toString('base64url')}.${signature}`)).rejects.toBeInstanceOf(
      JwtInvalidSignatureError,
    );
  });

  it('dates an expired token as issued before it expired', () => {
    const claims = cognitoClaims({ sub: 'dave', expiresInSeconds: -10 }, { issuer: 'i', audience: 'a' }, 10_000);
    expect(claims).toMatchObject({ exp: 9_990, iat: 9_990 - 3600, auth_time: 9_990 - 3600 });
  });

  it('answers POST /token with a verifiable token for that username', async () => {
    const { status, headers, body } = await postToken(JSON.stringify({ username: 'erin', name: 'Erin E.' }));
    expect(status).toBe(200);
    expect(headers.get('access-control-allow-origin')).toBe('*');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    const verified = await rsaVerifier().verify(String(body.token));
    expect(verified).toMatchObject({ sub: 'erin', 'cognito:username': 'Erin E.' });
  });

  it.each([
    ['no username', '{}'],
    ['a username with a key separator', JSON.stringify({ username: 'room#lobby' })],
    ['a lifetime beyond twelve hours', JSON.stringify({ username: 'erin', expiresInSeconds: 86_400 })],
    ['malformed JSON', '{"username":'],
  ])('refuses a token request with %s', async (_name, body) => {
    const response = await postToken(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('validation_failed');
    expect(response.body.token).toBeUndefined();
  });

  it('refuses an oversize token request, a GET on /token and unknown paths', async () => {
    expect((await postToken(JSON.stringify({ username: 'x', pad: 'y'.repeat(8000) }))).status).toBe(413);
    expect((await fetch(`${issuer.url}/token`)).status).toBe(405);
    expect((await fetch(`${issuer.url}/keys`)).status).toBe(404);
  });

  it('answers a browser preflight for POST /token', async () => {
    const response = await fetch(`${issuer.url}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:5173', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('content-type');
  });

  it('makes fresh keys per start, so tokens from an earlier run stop verifying', async () => {
    const other = await startTokenIssuer({ port: 0, issuerPath: 'other-pool' });
    try {
      expect(other.issuer).toMatch(/\/other-pool$/);
      const otherJwks = (await (await fetch(other.jwksUri)).json()) as Jwks;
      expect(otherJwks.keys[0]?.kid).not.toBe(jwks.keys[0]?.kid);
      const verifier = JwtRsaVerifier.create({ issuer: issuer.issuer, audience: null, jwksUri: issuer.jwksUri });
      verifier.cacheJwks(jwks);
      const fromOther = other.mint({ sub: 'frank', issuer: issuer.issuer });
      await expect(verifier.verify(fromOther)).rejects.toThrow();
    } finally {
      await other.close();
    }
    await expect(fetch(other.jwksUri)).rejects.toThrow();
  });
});
