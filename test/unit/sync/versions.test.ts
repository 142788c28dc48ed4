import fc from 'fast-check';
import type { SyncRecord, Version } from '../../../src/sync/records';
import { conflictPath, decide } from '../../../src/sync/resolve';
import { bumpVersion, compareVersions, mergeVersions } from '../../../src/sync/version';

const version = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1, max: 5 }));

describe('version vectors', () => {
  it('compare is antisymmetric and equal only to itself', () => {
    fc.assert(
      fc.property(version, version, (x, y) => {
        const xy = compareVersions(x, y);
        const yx = compareVersions(y, x);
        const flip = { equal: 'equal', newer: 'older', older: 'newer', concurrent: 'concurrent' };
        expect(yx).toBe(flip[xy]);
        expect(compareVersions(x, x)).toBe('equal');
      }),
    );
  });

  it('a merge has seen both, and a bump is newer than what it bumped', () => {
    fc.assert(
      fc.property(version, version, fc.constantFrom('a', 'b', 'z'), (x, y, node) => {
        const m = mergeVersions(x, y);
        expect(['newer', 'equal']).toContain(compareVersions(m, x));
        expect(['newer', 'equal']).toContain(compareVersions(m, y));
        expect(compareVersions(bumpVersion(m, node), m)).toBe('newer');
      }),
    );
  });

  it('two changes from one version on two nodes are concurrent', () => {
    const base: Version = { a: 2, b: 1 };
    expect(compareVersions(bumpVersion(base, 'a'), bumpVersion(base, 'b'))).toBe('concurrent');
  });
});

const record = (over: Partial<SyncRecord>): SyncRecord => ({
  path: 'notes.txt',
  kind: 'file',
  mode: 0o644,
  mtimeMs: Date.UTC(2026, 11, 5, 10, 15, 0),
  size: 1,
  linkTarget: '',
  hash: 'h1',
  deleted: false,
  version: { a: 1 },
  modifiedBy: 'a1b2c3d4e5',
  sequence: 1,
  ...over,
});

describe('decide', () => {
  it('applies a newer record, skips an older or equal one', () => {
    const local = record({ version: { a: 1 } });
    expect(decide(local, record({ version: { a: 2 }, hash: 'h2' })).action).toBe('apply');
    expect(decide(local, record({ version: { a: 1 } })).action).toBe('skip');
    expect(decide(record({ version: { a: 3 } }), local).action).toBe('skip');
  });

  it('adopts a newer record with the same state, and a tombstone of a path it never had', () => {
    expect(decide(record({}), record({ version: { a: 1, b: 1 } })).action).toBe('adopt');
    expect(decide(undefined, record({ deleted: true })).action).toBe('adopt');
  });

  it('on concurrent edits both nodes keep the same winner and name the same copy', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 }), (ta, tb) => {
        const onA = record({
          version: { a: 2 },
          hash: 'ha',
          mtimeMs: ta * 1000,
          modifiedBy: 'aaaaaaa1',
        });
        const onB = record({
          version: { a: 1, b: 1 },
          hash: 'hb',
          mtimeMs: tb * 1000,
          modifiedBy: 'bbbbbbb1',
        });
        const atA = decide(onA, onB);
        const atB = decide(onB, onA);
        // The winner's content stays at the path on both, and the loser's copy has one name.
        const kept = (d: ReturnType<typeof decide>) => ('record' in d ? d.record.hash : '');
        const copy = (d: ReturnType<typeof decide>) => ('conflictPath' in d ? d.conflictPath : '');
        expect(kept(atA)).toBe(kept(atB));
        expect(copy(atA)).toBe(copy(atB));
        expect(copy(atA)).toMatch(/^notes\.sync-conflict-\d{8}-\d{6}-(aaaaaaa|bbbbbbb)\.txt$/);
        if ('record' in atA) expect(atA.record.version).toEqual({ a: 2, b: 1 });
      }),
    );
  });

  it('an edit wins over a concurrent delete, either way round', () => {
    const edit = record({ version: { a: 1, b: 1 }, hash: 'new' });
    const del = record({ version: { a: 2 }, deleted: true, hash: '' });
    expect(decide(del, edit)).toMatchObject({ action: 'apply', record: { hash: 'new' } });
    expect(decide(edit, del)).toMatchObject({ action: 'adopt', record: { hash: 'new' } });
  });

  it('concurrent versions of the same content merge without a copy', () => {
    const d = decide(record({ version: { a: 1 } }), record({ version: { b: 1 } }));
    expect(d).toMatchObject({ action: 'adopt', record: { version: { a: 1, b: 1 } } });
  });

  it('names conflict copies after the loser, extension last', () => {
    const loser = record({ path: 'd/archive.tar', modifiedBy: 'f00dfeed99' });
    expect(conflictPath(loser)).toBe('d/archive.sync-conflict-20261205-101500-f00dfee.tar');
    expect(conflictPath(record({ path: '.env' }))).toMatch(/^\.env\.sync-conflict-/);
  });
});
