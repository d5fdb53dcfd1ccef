import { randomBytes } from 'node:crypto';
import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import { NonRetryableFetchError } from 'aws-jwt-verify/error';
import { type Fetcher, SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { requireEnv } from '#aws/config';
import { UnauthorizedError } from '#core/domain/errors';
import { type Identity, userIdSchema, userNameSchema } from '#core/domain/identity';

export type AuthMode = 'cognito' | 'none';

export function authMode(): AuthMode {
  const mode = process.env.AUTH_MODE ?? 'cognito';
  if (mode !== 'cognito' && mode !== 'none') throw new Error(`AUTH_MODE must be cognito or none, not ${mode}`);
  return mode;
}

interface TokenVerifier {
  verify(token: string): Promise<Record<string, unknown>>;
}

let verifier: TokenVerifier | undefined;

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
const JWKS_FETCH_TIMEOUT_MS = 3000;

/**
 * aws-jwt-verify fetches JWKS over https only, and the local token issuer serves plain http on
 * loopback. http is allowed there and nowhere else: keys fetched over a network without TLS could
 * be swapped for an attacker's, who could then sign any identity.
 */
export function jwksFetcher(https: Fetcher = new SimpleFetcher()): Fetcher {
  return {
    async fetch(uri, requestOptions, data) {
      const url = new URL(uri);
      if (url.protocol !== 'http:') return https.fetch(uri, requestOptions, data);
      if (!LOOPBACK_HOSTNAMES.has(url.hostname)) {
        throw new NonRetryableFetchError(uri, 'a JWKS is fetched over http only from a loopback address');
      }
      // No redirects: a loopback URL must not hand the fetch on to a host off this machine.
      const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
      if (response.status !== 200) {
        throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
      }
      return response.arrayBuffer();
    },
  };
}

/**
 * Built once per container so the JWKS it downloads is cached across invocations. JWT_ISSUER
 * points it at another issuer with Cognito-shaped tokens (the local token issuer).
 */
function tokenVerifier(): TokenVerifier {
  if (!verifier) {
    const issuer = process.env.JWT_ISSUER;
    if (issuer) {
      const rsa = JwtRsaVerifier.create(
        { issuer, audience: process.env.JWT_AUDIENCE ?? null, jwksUri: process.env.JWT_JWKS_URI },
        { jwksCache: new SimpleJwksCache({ fetcher: jwksFetcher() }) },
      );
      verifier = { verify: (token) => rsa.verify(token) as Promise<Record<string, unknown>> };
    } else {
      const cognito = CognitoJwtVerifier.create({
        userPoolId: requireEnv('USER_POOL_ID'),
        clientId: requireEnv('USER_POOL_CLIENT_ID'),
        tokenUse: null,
      });
      verifier = { verify: (token) => cognito.verify(token) as Promise<Record<string, unknown>> };
    }
  }
  return verifier;
}

/** Verifies a JWT and returns who it names. Any failure is a plain 401: no detail for attackers. */
export async function identityFromToken(token: string | undefined): Promise<Identity> {
  if (!token) throw new UnauthorizedError('missing token');
  let claims: Record<string, unknown>;
  try {
    claims = await tokenVerifier().verify(token);
  } catch {
    throw new UnauthorizedError('invalid token');
  }
  const userId = userIdSchema.safeParse(claims.sub);
  if (!userId.success) throw new UnauthorizedError('token has no usable subject');
  const rawName = claims['cognito:username'] ?? claims.username ?? claims.sub;
  const userName = userNameSchema.safeParse(rawName);
  return { userId: userId.data, userName: userName.success ? userName.data : userId.data };
}

/**
 * Demo mode (AUTH_MODE=none): whoever the query says, as in seed 004. A missing or invalid id
 * gets a fresh guest identity rather than someone else's.
 */
export function identityFromClaim(userId: string | undefined, userName: string | undefined): Identity {
  const id = userIdSchema.safeParse(userId);
  const resolvedId = id.success ? id.data : `guest-${randomBytes(4).toString('hex')}`;
  const name = userNameSchema.safeParse(userName);
  return { userId: resolvedId, userName: name.success ? name.data : resolvedId };
}
