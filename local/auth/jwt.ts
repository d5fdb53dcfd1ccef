import { createHash, generateKeyPair, type JsonWebKey, type KeyObject, sign } from 'node:crypto';

/** A public key as published in a JWKS: what a verifier needs to check RS256 signatures. */
export interface RsaPublicJwk {
  kty: 'RSA';
  kid: string;
  alg: 'RS256';
  use: 'sig';
  n: string;
  e: string;
}

/** An RSA signing key that lives only in this process's memory. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: RsaPublicJwk;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * Generates a 2048-bit RSA key pair in memory. The kid is the key's RFC 7638 thumbprint, so it is
 * stable for a key and says nothing else about it. Keys are never written to disk: a restart
 * invalidates every token minted before it, which is what a local issuer should do.
 */
export async function generateSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>(
    (resolve, reject) =>
      generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, (error, pub, priv) =>
        error ? reject(error) : resolve({ publicKey: pub, privateKey: priv }),
      ),
  );
  const exported = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  if (typeof exported.n !== 'string' || typeof exported.e !== 'string') throw new Error('RSA key export failed');
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ e: exported.e, kty: 'RSA', n: exported.n }))
    .digest();
  const kid = base64url(thumbprint);
  return { kid, privateKey, jwk: { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: exported.n, e: exported.e } };
}

/**
 * Signs a compact JWS with RS256 (RSASSA-PKCS1-v1_5 over SHA-256). The header carries only `kid`
 * and `alg`, as Cognito's does. `kid` is separate from the key so a caller can sign with one key
 * while naming another (the "signed by someone else's key" attack).
 */
export function signRs256(payload: Record<string, unknown>, privateKey: KeyObject, kid: string): string {
  const signingInput = `${base64url(JSON.stringify({ kid, alg: 'RS256' }))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${base64url(signature)}`;
}
