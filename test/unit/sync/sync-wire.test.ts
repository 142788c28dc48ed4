import { SyncKind, type SyncRecord as WireRecord } from '../../../src/gen/budgie/peer/v1/sync';
import { InvalidInputError } from '../../../src/errors';
import {
  fromFetchResponse,
  fromWireRecord,
  fromWireSignature,
  toWireRecord,
} from '../../../src/sync/sync-wire';

const HASH = 'ab'.repeat(32);
const wire = (over: Partial<WireRecord>): WireRecord => ({
  path: 'a/b.txt',
  kind: SyncKind.SYNC_KIND_FILE,
  mode: 0o644,
  mtimeUnixMs: 1,
  size: 3,
  linkTarget: '',
  hash: HASH,
  deleted: false,
  version: [{ nodeId: 'n1', counter: 1 }],
  modifiedBy: 'n1',
  sequence: 1,
  ...over,
});

it('a record survives the wire both ways', () => {
  const r = fromWireRecord(wire({}));
  expect(fromWireRecord(toWireRecord(r))).toEqual(r);
});

it('setuid and setgid never travel', () => {
  expect(fromWireRecord(wire({ mode: 0o6755 })).mode).toBe(0o755);
});

describe('a forged record is refused', () => {
  it.each<[string, Partial<WireRecord>]>([
    ['an absolute path', { path: '/etc/passwd' }],
    ['a .. path', { path: 'a/../../x' }],
    ['an empty segment', { path: 'a//b' }],
    ['a sync temp file', { path: 'a/.budgie-sync-1.tmp' }],
    ['an unknown kind', { kind: SyncKind.UNRECOGNIZED }],
    ['no kind', { kind: SyncKind.SYNC_KIND_UNSPECIFIED }],
    ['a file without a SHA-256 hash', { hash: 'x' }],
    ['a link out of the volume', { kind: SyncKind.SYNC_KIND_SYMLINK, linkTarget: '../../etc' }],
    ['an absolute link', { kind: SyncKind.SYNC_KIND_SYMLINK, linkTarget: '/etc' }],
    // With a link d -> . beside it, d/.. is the volume's parent.
    ['a link that climbs after a name', { kind: SyncKind.SYNC_KIND_SYMLINK, linkTarget: 'd/..' }],
    ['no version', { version: [] }],
    [
      'a huge version',
      { version: Array.from({ length: 65 }, (_, i) => ({ nodeId: `n${i}`, counter: 1 })) },
    ],
    [
      'a node twice',
      {
        version: [
          { nodeId: 'n', counter: 1 },
          { nodeId: 'n', counter: 2 },
        ],
      },
    ],
    ['a negative size', { size: -1 }],
    ['no author', { modifiedBy: '' }],
  ])('%s', (_what, over) => {
    expect(() => fromWireRecord(wire(over))).toThrow(InvalidInputError);
  });
});

it('a signature must be the shape it says, and bounded', () => {
  const block = { weak: 1, strong: Buffer.alloc(16) };
  expect(
    fromWireSignature({ blockSize: 700, basisSize: 1400, blocks: [block, block] }).blocks,
  ).toHaveLength(2);
  expect(() => fromWireSignature({ blockSize: 700, basisSize: 1400, blocks: [block] })).toThrow(
    /basis_size/,
  );
  expect(() => fromWireSignature({ blockSize: 0, basisSize: 0, blocks: [] })).toThrow(/block_size/);
  expect(() =>
    fromWireSignature({
      blockSize: 700,
      basisSize: 700,
      blocks: [{ weak: 1, strong: Buffer.alloc(3) }],
    }),
  ).toThrow(/16 bytes/);
  expect(() =>
    fromWireSignature({
      blockSize: 1,
      basisSize: 100_001,
      blocks: Array.from({ length: 100_001 }, () => block),
    }),
  ).toThrow(/at most/);
});

it('a literal larger than the protocol allows is refused', () => {
  expect(() =>
    fromFetchResponse({ op: { $case: 'literal', value: Buffer.alloc(64 * 1024 + 1) } }),
  ).toThrow(/literal/);
  expect(() => fromFetchResponse({})).toThrow(/empty/);
});
