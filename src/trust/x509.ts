// @peculiar/x509 resolves its internals through tsyringe, which needs the Reflect metadata
// polyfill loaded first; keeping both imports here, in this order, is what makes that hold.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The one door to the X.509 library: Node can verify certificates but not create them, so
 * certificates and CSRs are built with @peculiar/x509 on Node's own WebCrypto. Everything else
 * (verification, TLS) uses node:crypto and node:tls directly.
 */
x509.cryptoProvider.set(webcrypto);

export { x509 };

/** Every key in a cluster: ECDSA P-256 with SHA-256, small and fast, supported by every TLS stack. */
export const SIGNING_ALGORITHM = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
} as const;

export type KeyPair = webcrypto.CryptoKeyPair;

export async function generateKeyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(SIGNING_ALGORITHM, true, ['sign', 'verify']);
}

/** Keys are stored as PKCS#8 PEM, which node:tls and openssl read as they are. */
export async function privateKeyPem(keys: KeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** Loads a stored key back into a pair the library can sign with. */
export async function keyPairFromPem(pem: string): Promise<KeyPair> {
  const key = createPrivateKey(pem);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const params = { name: 'ECDSA', namedCurve: 'P-256' };
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey('pkcs8', pkcs8, params, true, ['sign']),
    webcrypto.subtle.importKey('spki', spki, params, true, ['verify']),
  ]);
  return { privateKey, publicKey };
}

/** A random positive serial number (RFC 5280: up to 20 octets, non-negative). */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** PEM as node:crypto and openssl write it, ending in a newline (files concatenate cleanly). */
export function pemOf(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').trimEnd()}\n`;
}
