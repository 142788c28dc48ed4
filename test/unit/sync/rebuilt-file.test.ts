import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../../src/errors';
import { RebuiltFile } from '../../../src/sync';

describe('a file rebuilt from a delta', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-rebuilt-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds literals and copied ranges in order, across many staging buffers, and shows every byte once', async () => {
    const old = randomBytes(3 * 1024 * 1024 + 123);
    await writeFile(join(dir, 'old'), old);
    const basis = await open(join(dir, 'old'), 'r');
    const out = await open(join(dir, 'new'), 'wx');
    const seen: Buffer[] = [];
    const file = new RebuiltFile(out, basis, 8 * 1024 * 1024, (chunk) =>
      seen.push(Buffer.from(chunk)),
    );
    const literal = randomBytes(70_000);
    const expected: Buffer[] = [];
    try {
      await file.append(literal);
      expected.push(literal);
      await file.appendCopy(1000, old.length - 1000);
      expected.push(old.subarray(1000));
      await file.append(literal.subarray(0, 5));
      expected.push(literal.subarray(0, 5));
      await file.appendCopy(0, 2_500_000);
      expected.push(old.subarray(0, 2_500_000));
      await file.finish();
    } finally {
      await basis.close();
      await out.close();
    }
    const want = Buffer.concat(expected);
    expect((await readFile(join(dir, 'new'))).equals(want)).toBe(true);
    expect(Buffer.concat(seen).equals(want)).toBe(true);
    // Staged, not written piece by piece: a few writes of up to a megabyte.
    expect(seen.length).toBeLessThanOrEqual(Math.ceil(want.length / (1024 * 1024)) + 1);
  });

  it('refuses a copied range the old copy no longer holds (it shrank while read)', async () => {
    await writeFile(join(dir, 'old'), randomBytes(1000));
    const basis = await open(join(dir, 'old'), 'r');
    const out = await open(join(dir, 'new'), 'wx');
    const file = new RebuiltFile(out, basis, 10_000, () => undefined);
    try {
      await expect(file.appendCopy(500, 1000)).rejects.toThrow(InvalidInputError);
      await expect(file.appendCopy(500, 1000)).rejects.toThrow(
        /the copy changed while it was read/,
      );
    } finally {
      await file.abandon();
      await basis.close();
      await out.close();
    }
  });

  it('passes a failed write on to finish, with nothing left unhandled', async () => {
    await writeFile(join(dir, 'new'), '');
    // Open for reading only: every write fails with EBADF.
    const out = await open(join(dir, 'new'), 'r');
    const file = new RebuiltFile(out, undefined, 4 * 1024 * 1024, () => undefined);
    try {
      await file.append(randomBytes(60_000));
      await expect(
        (async () => {
          for (let i = 0; i < 40; i++) await file.append(randomBytes(60_000));
          await file.finish();
        })(),
      ).rejects.toThrow(/EBADF/);
    } finally {
      await out.close();
    }
  });
});
