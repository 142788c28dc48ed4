import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Revocations } from '../../../src/trust';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const SELF = 'f'.repeat(64);

describe('Revocations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-revoked-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('starts empty, adds node ids once, keeps them across a reopen', async () => {
    const r = await Revocations.open(dir);
    expect(r.list()).toEqual([]);
    expect(await r.add([B, A, B], SELF)).toEqual([B, A]);
    expect(await r.add([A], SELF)).toEqual([]);
    expect(r.has(A) && r.has(B)).toBe(true);
    const again = await Revocations.open(dir);
    expect(again.list()).toEqual([A, B]);
    expect(JSON.parse(await readFile(join(dir, 'revoked.json'), 'utf8'))).toEqual([A, B]);
  });

  it('never revokes this node itself, nor anything that is not a node id', async () => {
    const r = await Revocations.open(dir);
    expect(await r.add([SELF, 'nope', `${A}0`], SELF)).toEqual([]);
    expect(r.list()).toEqual([]);
  });

  it('keeps the newest list when adds overlap', async () => {
    const r = await Revocations.open(dir);
    await Promise.all([r.add([A], SELF), r.add([B], SELF)]);
    expect((await Revocations.open(dir)).list()).toEqual([A, B]);
  });

  it('skips malformed entries of a hand-edited file', async () => {
    await writeFile(join(dir, 'revoked.json'), JSON.stringify([A, 42, 'x']));
    expect((await Revocations.open(dir)).list()).toEqual([A]);
  });
});
