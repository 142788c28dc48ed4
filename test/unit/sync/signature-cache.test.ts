import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { blockSizeFor, signatureOf } from '../../../src/sync/signature';
import { CACHED_SIGNATURE_BYTES, SignatureCache } from '../../../src/sync/signature-cache';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'budgie-sigs-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

async function signatureFor(bytes: Buffer) {
  return signatureOf(Readable.from([bytes]), blockSizeFor(bytes.length));
}

it('gives back what was put, for the size it was put for only', async () => {
  const cache = new SignatureCache(join(dir, 'sigs'));
  const bytes = randomBytes(CACHED_SIGNATURE_BYTES + 12_345);
  const signature = await signatureFor(bytes);
  await cache.put(HASH_A, signature);
  expect(await cache.get(HASH_A, bytes.length)).toEqual(signature);
  expect(await cache.get(HASH_A, bytes.length + 1)).toBeUndefined();
  expect(await cache.get(HASH_B, bytes.length)).toBeUndefined();
});

it('keeps nothing for small files, and refuses names that are not content hashes', async () => {
  const cache = new SignatureCache(join(dir, 'sigs'));
  const small = await signatureFor(randomBytes(10_000));
  await cache.put(HASH_A, small);
  expect(await cache.get(HASH_A, 10_000)).toBeUndefined();
  const big = await signatureFor(randomBytes(CACHED_SIGNATURE_BYTES));
  await cache.put('../../etc/passwd', big);
  expect(await readdir(dir)).toEqual([]);
});

it('a torn or foreign file reads as no signature', async () => {
  const cache = new SignatureCache(join(dir, 'sigs'));
  const bytes = randomBytes(CACHED_SIGNATURE_BYTES * 2);
  await cache.put(HASH_A, await signatureFor(bytes));
  const stored = join(dir, 'sigs', HASH_A);
  const { readFile } = await import('node:fs/promises');
  const whole = await readFile(stored);
  await writeFile(stored, whole.subarray(0, whole.length - 7));
  expect(await cache.get(HASH_A, bytes.length)).toBeUndefined();
  await writeFile(stored, 'not a signature');
  expect(await cache.get(HASH_A, bytes.length)).toBeUndefined();
});

it('prune keeps the signatures of live content only, and drop forgets one', async () => {
  const cache = new SignatureCache(join(dir, 'sigs'));
  const signature = await signatureFor(randomBytes(CACHED_SIGNATURE_BYTES));
  await cache.put(HASH_A, signature);
  await cache.put(HASH_B, signature);
  await writeFile(join(dir, 'sigs', `.${HASH_A}.torn`), 'left by a crash');
  await cache.prune((hash) => hash === HASH_A);
  expect(await readdir(join(dir, 'sigs'))).toEqual([HASH_A]);
  await cache.drop(HASH_A);
  expect(await readdir(join(dir, 'sigs'))).toEqual([]);
});
