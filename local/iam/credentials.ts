/**
 * Local credentials stand for IAM roles. Each principal (a function's execution role, the state
 * machine's role, an EventBridge rule target's role, the operator) signs with an access key that
 * names its role, so an authorising endpoint can tell from a request's SigV4 Authorization header
 * which role's policies to evaluate, as STS-issued keys map to a role in AWS.
 */

/** The operator's role: the person or harness that creates tables and reads them in tests. */
export const OPERATOR_ROLE = 'local-operator';

const KEY_PREFIX = 'LOCAL';
const SECRET = 'local-secret';

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The execution role SAM generates for a function is named after it; locally one role per function too. */
export function functionRoleName(functionName: string): string {
  return `${functionName}-role`;
}

/** The access key a role's sessions sign with: the role name, hex-encoded (SigV4 keys cannot hold '/'). */
export function credentialsForRole(roleName: string): LocalCredentials {
  return {
    accessKeyId: `${KEY_PREFIX}${Buffer.from(roleName, 'utf8').toString('hex').toUpperCase()}`,
    secretAccessKey: SECRET,
  };
}

/** The role an access key was issued for, or undefined for a key no local role issued. */
export function roleForAccessKeyId(accessKeyId: string): string | undefined {
  if (!accessKeyId.startsWith(KEY_PREFIX)) return undefined;
  const hex = accessKeyId.slice(KEY_PREFIX.length);
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-F]+$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** The access key id in a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=KEY/date/...`). */
export function accessKeyIdOf(authorization: string | undefined): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
}
