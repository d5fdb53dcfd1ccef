import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { userIdSchema, userNameSchema } from '#core/domain/identity';
import { readBody } from '../aws-protocol.js';
import { listen } from '../listen.js';
import { generateSigningKey, type SigningKey, signRs256 } from './jwt.js';

/** The client id minted tokens are for, unless the caller picks another. */
export const DEFAULT_AUDIENCE = 'switchboard-local-client';
/** Cognito's default ID and access token lifetime. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
/** Longest lifetime `POST /token` hands out: a local token should not outlive a working day. */
export const MAX_TOKEN_LIFETIME_SECONDS = 12 * 3600;

const MAX_BODY_BYTES = 4096;

/** What to put in a minted token. Everything but `sub` has a Cognito-like default. */
export interface MintClaims {
  sub: string;
  /** `cognito:username` (ID token) or `username` (access token); defaults to `sub`. */
  username?: string;
  /** Negative values mint a token that has already expired. Default one hour. */
  expiresInSeconds?: number;
  /** `aud` (ID token) or `client_id` (access token); defaults to the issuer's audience. */
  audience?: string;
  /** `iss`; pass another pool's issuer to mint a token for that pool. */
  issuer?: string;
  /** Default `id`, the token the authorizer expects (it carries `aud` and `cognito:username`). */
  tokenUse?: 'id' | 'access';
}

/** Options of {@link startTokenIssuer}. */
export interface TokenIssuerOptions {
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Path part of the issuer URL, like Cognito's `/{userPoolId}`; default `/local-pool`. */
  issuerPath?: string;
  /** The client id (`aud`) of minted tokens; default {@link DEFAULT_AUDIENCE}. */
  audience?: string;
}

/** A running local token issuer. */
export interface LocalTokenIssuer {
  /** `http://host:port{issuerPath}`: the `iss` of minted tokens and JWT_ISSUER for the authorizer. */
  issuer: string;
  /** `{issuer}/.well-known/jwks.json`: JWT_JWKS_URI. */
  jwksUri: string;
  /** JWT_AUDIENCE. */
  audience: string;
  /** `http://host:port`, where `POST /token` answers. */
  url: string;
  /** A token signed with the published key. */
  mint(claims: MintClaims): string;
  /** The same token, signed by a key that is not in the JWKS but claims the published key's kid. */
  mintWithForeignKey(claims: MintClaims): string;
  close(): Promise<void>;
}

const tokenRequestSchema = z.object({
  username: userIdSchema,
  /** Display name; the username when absent. */
  name: userNameSchema.optional(),
  expiresInSeconds: z.number().int().min(1).max(MAX_TOKEN_LIFETIME_SECONDS).optional(),
});

/**
 * The claims Cognito puts in its ID and access tokens, for one user. `sub` is the caller's choice
 * (locally the username, so ids stay readable) where Cognito would use a UUID.
 */
export function cognitoClaims(
  claims: MintClaims,
  defaults: { issuer: string; audience: string },
  nowSeconds = Math.floor(Date.now() / 1000),
): Record<string, unknown> {
  const lifetime = claims.expiresInSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  const exp = nowSeconds + lifetime;
  // An already-expired token was issued an hour before it expired, as a real stale token was.
  const iat = lifetime > 0 ? nowSeconds : exp - DEFAULT_TOKEN_LIFETIME_SECONDS;
  const audience = claims.audience ?? defaults.audience;
  const username = claims.username ?? claims.sub;
  const common = {
    sub: claims.sub,
    iss: claims.issuer ?? defaults.issuer,
    event_id: randomUUID(),
    auth_time: iat,
    iat,
    exp,
    jti: randomUUID(),
    origin_jti: randomUUID(),
  };
  if (claims.tokenUse === 'access') {
    return {
      ...common,
      client_id: audience,
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin',
      username,
    };
  }
  return { ...common, aud: audience, token_use: 'id', 'cognito:username': username };
}

/**
 * Starts a local stand-in for a Cognito user pool's token side: an RSA key pair made at start and
 * kept in memory, its JWKS at `/.well-known/jwks.json`, and Cognito-shaped RS256 tokens. Point the
 * authorizer at it with JWT_ISSUER / JWT_JWKS_URI / JWT_AUDIENCE.
 *
 * `POST /token {"username":"alice"}` answers `{"token": ...}` for anyone who asks: it checks no
 * password, which is why it binds to loopback and exists only in the local stack.
 */
export async function startTokenIssuer(options: TokenIssuerOptions): Promise<LocalTokenIssuer> {
  const host = options.host ?? '127.0.0.1';
  const issuerPath = normalizePath(options.issuerPath ?? '/local-pool');
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const [key, foreignKey] = await Promise.all([generateSigningKey(), generateSigningKey()]);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else if (error instanceof BodyTooLargeError)
        send(res, 413, { error: 'payload_too_large' }, { connection: 'close' });
      else send(res, 500, { error: 'internal_error' });
    });
  });
  const { port } = await listen(server, options.port, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = `${url}${issuerPath}`;
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  const jwks = JSON.stringify({ keys: [key.jwk] });

  const mintWith = (signer: SigningKey, claims: MintClaims) =>
    // The foreign key still names the published kid: an attacker copies it from the public JWKS.
    signRs256(cognitoClaims(claims, { issuer, audience }), signer.privateKey, key.kid);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    if (req.method === 'OPTIONS') {
      send(res, 204);
      return;
    }
    if (req.method === 'GET' && (path === '/.well-known/jwks.json' || path === `${issuerPath}/.well-known/jwks.json`)) {
      send(res, 200, jwks);
      return;
    }
    if (
      req.method === 'GET' &&
      (path === '/.well-known/openid-configuration' || path === `${issuerPath}/.well-known/openid-configuration`)
    ) {
      send(res, 200, {
        issuer,
        jwks_uri: jwksUri,
        token_endpoint: `${url}/token`,
        id_token_signing_alg_values_supported: ['RS256'],
        subject_types_supported: ['public'],
        response_types_supported: ['token'],
      });
      return;
    }
    if (path === '/token' || path === `${issuerPath}/token`) {
      if (req.method !== 'POST') {
        send(res, 405, { error: 'method_not_allowed' }, { allow: 'POST, OPTIONS' });
        return;
      }
      const body = await readJson(req);
      const parsed = tokenRequestSchema.safeParse(body);
      if (!parsed.success) {
        send(res, 400, {
          error: 'validation_failed',
          issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        });
        return;
      }
      const expiresIn = parsed.data.expiresInSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
      const token = mintWith(key, {
        sub: parsed.data.username,
        username: parsed.data.name ?? parsed.data.username,
        expiresInSeconds: expiresIn,
      });
      send(res, 200, { token, tokenType: 'Bearer', expiresIn });
      return;
    }
    if (
      req.method === 'POST' &&
      path === '/' &&
      String(req.headers['x-amz-target']).startsWith('AWSCognitoIdentityProviderService.')
    ) {
      await initiateAuth(req, res);
      return;
    }
    send(res, 404, { error: 'not_found' });
  }

  /**
   * Enough of Cognito's InitiateAuth (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH) for the browser app's
   * sign-in form. Development only: any password is accepted for any valid username.
   */
  async function initiateAuth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target']);
    const body = (await readJson(req)) as { AuthFlow?: string; AuthParameters?: Record<string, string> };
    const parameters = body.AuthParameters ?? {};
    const username =
      body.AuthFlow === 'REFRESH_TOKEN_AUTH'
        ? Buffer.from(String(parameters.REFRESH_TOKEN ?? ''), 'base64url').toString('utf8')
        : String(parameters.USERNAME ?? '');
    const parsed = tokenRequestSchema.safeParse({ username });
    if (!target.endsWith('.InitiateAuth') || !parsed.success) {
      send(res, 400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' });
      return;
    }
    const claims = {
      sub: parsed.data.username,
      username: parsed.data.username,
      expiresInSeconds: DEFAULT_TOKEN_LIFETIME_SECONDS,
    };
    send(res, 200, {
      AuthenticationResult: {
        IdToken: mintWith(key, claims),
        AccessToken: mintWith(key, { ...claims, tokenUse: 'access' }),
        RefreshToken: Buffer.from(parsed.data.username).toString('base64url'),
        ExpiresIn: DEFAULT_TOKEN_LIFETIME_SECONDS,
        TokenType: 'Bearer',
      },
    });
  }

  let closed: Promise<void> | undefined;
  return {
    issuer,
    jwksUri,
    audience,
    url,
    mint: (claims) => mintWith(key, claims),
    mintWithForeignKey: (claims) => mintWith(foreignKey, claims),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function normalizePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const { body, tooLarge } = await readBody(req, MAX_BODY_BYTES);
  if (tooLarge) throw new BodyTooLargeError(`body exceeds ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function send(
  res: ServerResponse,
  status: number,
  body?: string | Record<string, unknown>,
  extraHeaders: Record<string, string> = {},
): void {
  // The browser app is served from another port; the issuer hands tokens to any local page.
  const headers: Record<string, string> = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'content-type, x-amz-target, x-amz-user-agent',
    'cache-control': 'no-store',
    ...extraHeaders,
  };
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(text);
}
