/** The runtime configuration served as `config.json` next to index.html. */
export interface AppConfig {
  webSocketUrl: string;
  restUrl: string;
  authMode: 'none' | 'cognito';
  cognito?: {
    userPoolId: string;
    clientId: string;
    region: string;
    /** Another endpoint speaking Cognito's InitiateAuth (a local issuer); defaults to cognito-idp.{region}. */
    endpoint?: string;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

function requireString(source: Record<string, unknown>, key: string, where = 'config.json'): string {
  const value = source[key];
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${where} needs a non-empty "${key}"`);
  return value;
}

/** Validates config.json by hand: the bundle stays small without a schema library. */
export function parseConfig(value: unknown): AppConfig {
  if (!isObject(value)) throw new ConfigError('config.json must be a JSON object');
  const webSocketUrl = requireString(value, 'webSocketUrl').replace(/\/+$/, '');
  const restUrl = requireString(value, 'restUrl').replace(/\/+$/, '');
  if (!/^wss?:\/\//.test(webSocketUrl)) throw new ConfigError('webSocketUrl must start with ws:// or wss://');
  if (!/^https?:\/\//.test(restUrl)) throw new ConfigError('restUrl must start with http:// or https://');
  const authMode = value.authMode ?? 'none';
  if (authMode !== 'none' && authMode !== 'cognito') throw new ConfigError('authMode must be "none" or "cognito"');
  const config: AppConfig = { webSocketUrl, restUrl, authMode };
  if (authMode === 'cognito') {
    if (!isObject(value.cognito)) throw new ConfigError('authMode "cognito" needs a "cognito" object');
    const where = 'config.json cognito';
    const endpoint = value.cognito.endpoint;
    config.cognito = {
      userPoolId: requireString(value.cognito, 'userPoolId', where),
      clientId: requireString(value.cognito, 'clientId', where),
      region: requireString(value.cognito, 'region', where),
      ...(typeof endpoint === 'string' && endpoint !== '' ? { endpoint } : {}),
    };
  }
  return config;
}

/** Fetched at start-up, never cached: one build serves every stage. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const response = await fetchImpl('config.json', { cache: 'no-store' });
  if (!response.ok) throw new ConfigError(`config.json: HTTP ${response.status}`);
  return parseConfig(await response.json());
}
