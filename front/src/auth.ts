import type { AppConfig } from './config.js';

/** Who the browser is signed in as, and (cognito) the tokens that prove it. */
export interface Session {
  userId: string;
  userName: string;
  idToken?: string;
  refreshToken?: string;
  /** Epoch ms at which the ID token expires. */
  expiresAt?: number;
}

export class AuthError extends Error {
  override name = 'AuthError';
}

/** Same rule as the server's userIdSchema, so a demo name is always a valid id. */
export const DEMO_USER_PATTERN = '[A-Za-z0-9_.@:+\\-]{1,64}';
const demoUserRegex = new RegExp(`^${DEMO_USER_PATTERN}$`);

const DEMO_KEY = 'switchboard.demoUser';
const COGNITO_KEY = 'switchboard.cognitoSession';

export type SignInResult = { session: Session } | { challenge: 'NEW_PASSWORD_REQUIRED'; challengeSession: string };

/**
 * Demo mode: the chosen name is the identity (kept in localStorage). Cognito mode: InitiateAuth
 * USER_PASSWORD_AUTH over plain fetch; the SDK would triple the bundle for three calls. Tokens live in
 * sessionStorage, so they die with the tab rather than lingering on a shared machine.
 */
export class Auth {
  readonly #config: AppConfig;
  #session: Session | undefined;

  constructor(config: AppConfig) {
    this.#config = config;
    this.#session = config.authMode === 'none' ? restoreDemo() : restoreCognito();
  }

  get session(): Session | undefined {
    return this.#session;
  }

  signInDemo(name: string): Session {
    const userId = name.trim();
    if (!demoUserRegex.test(userId)) {
      throw new AuthError('Use 1-64 letters, digits or _ . @ : + - (no spaces).');
    }
    localStorage.setItem(DEMO_KEY, userId);
    this.#session = { userId, userName: userId };
    return this.#session;
  }

  async signInCognito(username: string, password: string): Promise<SignInResult> {
    const result = await this.#cognito('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: this.#cognitoConfig().clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.#signInResult(result);
  }

  /** Answers NEW_PASSWORD_REQUIRED, which an admin-created user meets on first sign-in. */
  async completeNewPassword(username: string, newPassword: string, challengeSession: string): Promise<SignInResult> {
    const result = await this.#cognito('RespondToAuthChallenge', {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      ClientId: this.#cognitoConfig().clientId,
      Session: challengeSession,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
    });
    return this.#signInResult(result);
  }

  /** The ID token, refreshed first when it has under a minute left. */
  async freshToken(): Promise<string | undefined> {
    const session = this.#session;
    if (this.#config.authMode !== 'cognito' || !session?.idToken) return undefined;
    if (session.expiresAt !== undefined && session.expiresAt - Date.now() > 60_000) return session.idToken;
    await this.refresh();
    return this.#session?.idToken;
  }

  /** Trades the refresh token for a new ID token; signs out if that is refused. */
  async refresh(): Promise<void> {
    const refreshToken = this.#session?.refreshToken;
    if (this.#config.authMode !== 'cognito' || !refreshToken) return;
    try {
      const result = await this.#cognito('InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: this.#cognitoConfig().clientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      });
      const tokens = result.AuthenticationResult as Record<string, unknown> | undefined;
      if (!tokens || typeof tokens.IdToken !== 'string') throw new AuthError('refresh returned no token');
      this.#store(sessionFromIdToken(tokens.IdToken, refreshToken));
    } catch (error) {
      if (error instanceof AuthError) this.signOut();
      throw error;
    }
  }

  /** The identity part of the WebSocket URL. */
  async webSocketParams(): Promise<Record<string, string>> {
    const session = this.#requireSession();
    if (this.#config.authMode === 'none') return { userId: session.userId, userName: session.userName };
    const token = await this.freshToken();
    if (!token) throw new AuthError('not signed in');
    return { token };
  }

  async restHeaders(): Promise<Record<string, string>> {
    const session = this.#requireSession();
    // Only x-user-id: the HTTP API's CORS configuration allows it, and reads need no display name.
    if (this.#config.authMode === 'none') return { 'x-user-id': session.userId };
    const token = await this.freshToken();
    if (!token) throw new AuthError('not signed in');
    return { authorization: `Bearer ${token}` };
  }

  signOut(): void {
    this.#session = undefined;
    localStorage.removeItem(DEMO_KEY);
    sessionStorage.removeItem(COGNITO_KEY);
  }

  #requireSession(): Session {
    if (!this.#session) throw new AuthError('not signed in');
    return this.#session;
  }

  #cognitoConfig(): NonNullable<AppConfig['cognito']> {
    if (!this.#config.cognito) throw new AuthError('Cognito is not configured');
    return this.#config.cognito;
  }

  #signInResult(result: Record<string, unknown>): SignInResult {
    if (result.ChallengeName === 'NEW_PASSWORD_REQUIRED' && typeof result.Session === 'string') {
      return { challenge: 'NEW_PASSWORD_REQUIRED', challengeSession: result.Session };
    }
    if (typeof result.ChallengeName === 'string') {
      throw new AuthError(`Sign-in needs ${result.ChallengeName}, which this page does not support.`);
    }
    const tokens = result.AuthenticationResult as Record<string, unknown> | undefined;
    if (!tokens || typeof tokens.IdToken !== 'string') throw new AuthError('Sign-in returned no token.');
    const refreshToken = typeof tokens.RefreshToken === 'string' ? tokens.RefreshToken : undefined;
    return { session: this.#store(sessionFromIdToken(tokens.IdToken, refreshToken)) };
  }

  #store(session: Session): Session {
    this.#session = session;
    sessionStorage.setItem(COGNITO_KEY, JSON.stringify(session));
    return session;
  }

  async #cognito(operation: string, body: object): Promise<Record<string, unknown>> {
    const cognito = this.#cognitoConfig();
    const endpoint = cognito.endpoint ?? `https://cognito-idp.${cognito.region}.amazonaws.com/`;
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(body),
    });
    const result = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      // Cognito's errors carry a readable message ("Incorrect username or password.").
      throw new AuthError(
        typeof result.message === 'string' ? result.message : `Sign-in failed (HTTP ${response.status}).`,
      );
    }
    return result;
  }
}

function restoreDemo(): Session | undefined {
  const userId = localStorage.getItem(DEMO_KEY);
  return userId && demoUserRegex.test(userId) ? { userId, userName: userId } : undefined;
}

function restoreCognito(): Session | undefined {
  try {
    const session = JSON.parse(sessionStorage.getItem(COGNITO_KEY) ?? 'null') as Session | null;
    return session?.idToken && session.userId ? session : undefined;
  } catch {
    return undefined;
  }
}

/** Reads (without verifying: the server does that) who the token names and when it expires. */
export function sessionFromIdToken(idToken: string, refreshToken?: string): Session {
  const payload = idToken.split('.')[1];
  if (!payload) throw new AuthError('malformed token');
  const json = atob(
    payload
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(payload.length / 4) * 4, '='),
  );
  const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<
    string,
    unknown
  >;
  const userId = typeof claims.sub === 'string' ? claims.sub : '';
  const name = claims['cognito:username'] ?? claims.username ?? userId;
  return {
    userId,
    userName: typeof name === 'string' ? name : userId,
    idToken,
    ...(refreshToken ? { refreshToken } : {}),
    ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp * 1000 } : {}),
  };
}
