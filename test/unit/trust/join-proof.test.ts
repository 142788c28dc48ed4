import { randomBytes } from 'node:crypto';
import { createCa } from '../../../src/trust/ca';
import { ChallengeStore } from '../../../src/trust/challenges';
import { sourceOf } from '../../../src/trust/join-service';
import {
  deriveTokenSecret,
  signProof,
  verifierOf,
  verifyProof,
  type JoinTranscript,
} from '../../../src/trust/join-proof';

describe('join proof', () => {
  const secret = randomBytes(32);
  const tokenId = 'abcdefgh';
  const transcript: JoinTranscript = {
    clusterId: 'c'.repeat(64),
    tokenId,
    nonce: randomBytes(32),
    csrDer: randomBytes(200),
    nodeName: 'laptop',
    addresses: ['192.168.1.20'],
  };

  it('verifies with the verifier, which does not contain the secret', () => {
    const verifier = verifierOf(secret, tokenId);
    expect(Buffer.from(verifier.publicKey, 'base64').includes(secret)).toBe(false);
    expect(verifyProof(verifier, transcript, signProof(secret, tokenId, transcript))).toBe(true);
  });

  it.each<[string, Partial<JoinTranscript>]>([
    ['another nonce', { nonce: randomBytes(32) }],
    ['another CSR', { csrDer: randomBytes(200) }],
    ['another name', { nodeName: 'evil' }],
    ['other addresses', { addresses: ['10.0.0.66'] }],
    ['another cluster', { clusterId: 'd'.repeat(64) }],
  ])('does not hold for %s', (_what, change) => {
    const proof = signProof(secret, tokenId, transcript);
    expect(verifyProof(verifierOf(secret, tokenId), { ...transcript, ...change }, proof)).toBe(
      false,
    );
  });

  it('does not hold with another secret or for a rotated token', () => {
    const proof = signProof(randomBytes(32), tokenId, transcript);
    expect(verifyProof(verifierOf(secret, tokenId), transcript, proof)).toBe(false);
    const good = signProof(secret, tokenId, transcript);
    expect(verifyProof(verifierOf(secret, 'zzzzzzzz'), transcript, good)).toBe(false);
  });

  it('derives the token secret from the CA key and the token id, the same every time', async () => {
    const ca = await createCa(Date.now());
    const first = deriveTokenSecret(ca.keyPem, tokenId);
    expect(first).toHaveLength(32);
    expect(deriveTokenSecret(ca.keyPem, tokenId)).toEqual(first);
    expect(deriveTokenSecret(ca.keyPem, 'zzzzzzzz')).not.toEqual(first);
    expect(deriveTokenSecret((await createCa(Date.now())).keyPem, tokenId)).not.toEqual(first);
  });
});

describe('ChallengeStore', () => {
  it('accepts each nonce once, before it expires', () => {
    let now = 1_000;
    const store = new ChallengeStore({ now: () => now, ttlMs: 100 });
    const first = store.issue('ipv4:10.0.0.2');
    const second = store.issue('ipv4:10.0.0.2');
    expect(store.consume(first)).toBe(true);
    expect(store.consume(first)).toBe(false);
    now += 100;
    expect(store.consume(second)).toBe(false);
    expect(store.consume(randomBytes(32))).toBe(false);
  });

  it('drops the oldest nonces beyond its bound', () => {
    const store = new ChallengeStore({ now: () => 0, max: 2 });
    const [a, b, c] = [store.issue('a'), store.issue('b'), store.issue('c')];
    expect(store.consume(a)).toBe(false);
    expect(store.consume(b)).toBe(true);
    expect(store.consume(c)).toBe(true);
  });

  it("a host asking in a loop pushes out only its own nonces, not a joining node's", () => {
    const store = new ChallengeStore({ now: () => 0, maxPerSource: 8 });
    const joiner = store.issue('ipv4:10.0.0.5');
    const flood = Array.from({ length: 5000 }, () => store.issue('ipv4:10.0.0.66'));
    expect(store.consume(joiner)).toBe(true);
    // The flood's last eight are the only ones it has left.
    expect(flood.slice(-8).every((n) => store.consume(n))).toBe(true);
    expect(flood.slice(0, -8).some((n) => store.consume(n))).toBe(false);
  });
});

describe('sourceOf', () => {
  it('is the caller without its port', () => {
    expect(sourceOf('10.0.0.2:51234')).toBe('10.0.0.2');
    expect(sourceOf('ipv4:10.0.0.2:51234')).toBe('ipv4:10.0.0.2');
    expect(sourceOf('[fe80::1]:7447')).toBe('[fe80::1]');
    expect(sourceOf('unix:/run/x.sock')).toBe('unix:/run/x.sock');
  });
});
