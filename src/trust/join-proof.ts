import {
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { sha256 } from './ids';
import { SECRET_BYTES } from './token';

/**
 * How a joiner proves it holds a token without the member storing the token's secret, and
 * without the proof being worth anything to someone who sniffs it:
 *
 * - The secret deterministically derives an Ed25519 key pair. Members store only its public key
 *   (the verifier): reading a member's disk does not let anyone join.
 * - The proof is a signature, with that key, over a transcript that includes a single-use nonce
 *   from the server and a hash of the joiner's CSR: it cannot be replayed, and it cannot be
 *   reused to get a certificate for another key.
 *
 * The secret itself is derived from the CA key and the token id, so a node that holds the CA key
 * can print the token again without storing it, and rotation (a new id) replaces it.
 */
export interface TokenVerifier {
  tokenId: string;
  /** The Ed25519 public key derived from the secret, SubjectPublicKeyInfo DER in base64. */
  publicKey: string;
  /** When the token stops working (ms since the epoch); none: it works until rotated. */
  expiresAtMs?: number;
}

export interface JoinTranscript {
  clusterId: string;
  tokenId: string;
  nonce: Uint8Array;
  csrDer: Uint8Array;
  nodeName: string;
  addresses: readonly string[];
}

/** Domain separation: these derivations and signatures mean nothing anywhere else. */
const SECRET_INFO = 'budgie join token secret v1';
const PROOF_KEY_INFO = 'budgie join proof key v1';
const TRANSCRIPT_TAG = 'budgie join transcript v1';
/** PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function deriveTokenSecret(caKeyPem: string, tokenId: string): Buffer {
  const ikm = createPrivateKey(caKeyPem).export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', ikm, tokenId, SECRET_INFO, SECRET_BYTES));
}

export function verifierOf(secret: Uint8Array, tokenId: string): TokenVerifier {
  const publicKey = createPublicKey(proofKey(secret, tokenId)).export({
    type: 'spki',
    format: 'der',
  });
  return { tokenId, publicKey: publicKey.toString('base64') };
}

export function signProof(secret: Uint8Array, tokenId: string, transcript: JoinTranscript): Buffer {
  return sign(null, encodeTranscript(transcript), proofKey(secret, tokenId));
}

export function verifyProof(
  verifier: TokenVerifier,
  transcript: JoinTranscript,
  proof: Uint8Array,
): boolean {
  if (transcript.tokenId !== verifier.tokenId) return false;
  const key = createPublicKey({
    key: Buffer.from(verifier.publicKey, 'base64'),
    format: 'der',
    type: 'spki',
  });
  return verify(null, encodeTranscript(transcript), key, proof);
}

function proofKey(secret: Uint8Array, tokenId: string): KeyObject {
  const seed = Buffer.from(hkdfSync('sha256', secret, tokenId, PROOF_KEY_INFO, 32));
  return createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** Length-prefixed fields, so that no two different transcripts encode to the same bytes. */
function encodeTranscript(t: JoinTranscript): Buffer {
  const fields = [
    Buffer.from(TRANSCRIPT_TAG),
    Buffer.from(t.clusterId),
    Buffer.from(t.tokenId),
    Buffer.from(t.nonce),
    sha256(t.csrDer),
    Buffer.from(t.nodeName),
    ...t.addresses.map((a) => Buffer.from(a)),
  ];
  return Buffer.concat(
    fields.flatMap((field) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(field.length);
      return [length, field];
    }),
  );
}
