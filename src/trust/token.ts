import { InvalidInputError } from '../errors';
import { BASE32_PATTERN, base32Decode, base32Encode, base32Length } from './base32';

/**
 * A join token: `BGT1.<ca>.<id>.<secret>`, every part lowercase base32.
 *
 * - `ca`: SHA-256 of the cluster CA certificate. The joiner pins the peer's TLS chain to it before
 *   it sends anything, so a spoofed mDNS advert or a second cluster cannot capture the join (as the
 *   CA hash in k3s tokens does).
 * - `id`: names the token (not secret); rotating the token makes a new id.
 * - `secret`: 32 random-looking bytes; proves the joiner was given the token.
 */
export const TOKEN_PREFIX = 'BGT1';
export const FINGERPRINT_BYTES = 32;
export const TOKEN_ID_BYTES = 5;
export const SECRET_BYTES = 32;

export interface JoinToken {
  caFingerprint: Buffer;
  id: string;
  secret: Buffer;
}

const SHAPE = `${TOKEN_PREFIX}.<cluster>.<id>.<secret>`;

export function formatToken(token: JoinToken): string {
  return [
    TOKEN_PREFIX,
    base32Encode(token.caFingerprint),
    token.id,
    base32Encode(token.secret),
  ].join('.');
}

/** Parses a token as typed or pasted; errors never echo the secret. */
export function parseToken(text: string): JoinToken {
  const parts = text.trim().split('.');
  if (parts.length !== 4) {
    throw new InvalidInputError(
      `token: expected ${SHAPE} (4 parts separated by "."), got ${parts.length} part${parts.length === 1 ? '' : 's'}`,
    );
  }
  const [prefix = '', ca = '', id = '', secret = ''] = parts;
  if (prefix !== TOKEN_PREFIX) {
    throw new InvalidInputError(
      `token: expected it to start with "${TOKEN_PREFIX}." (${SHAPE}), got ${JSON.stringify(prefix.slice(0, 8))}`,
    );
  }
  return {
    caFingerprint: base32Part('cluster fingerprint', ca, FINGERPRINT_BYTES),
    id: checkTokenId(id),
    secret: base32Part('secret', secret, SECRET_BYTES),
  };
}

/** Token ids also arrive in Join requests, so they are checked on their own. */
export function checkTokenId(id: string): string {
  base32Part('id', id, TOKEN_ID_BYTES);
  return id;
}

function base32Part(name: string, text: string, bytes: number): Buffer {
  const length = base32Length(bytes);
  if (text.length !== length || !BASE32_PATTERN.test(text)) {
    const got = BASE32_PATTERN.test(text)
      ? `${text.length} characters`
      : 'characters outside a-z and 2-7';
    throw new InvalidInputError(
      `token: ${name}: expected ${length} base32 characters (a-z, 2-7), got ${got}`,
    );
  }
  return base32Decode(text);
}
