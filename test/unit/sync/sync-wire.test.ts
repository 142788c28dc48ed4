import {
  FetchFileStatus,
  FetchFilesResponse,
  SyncKind,
  type SyncRecord as WireRecord,
} from '../../../src/gen/budgie/peer/v1/sync';
import { InvalidInputError } from '../../../src/errors';
import {
  fromFetchFilesResponse,
  fromFetchResponse,
  fromWireRecord,
  fromWireSignature,
  toFetchFilesResponse,
  toWireRecord,
} from '../../../src/sync/sync-wire';
import { SMALL_FILE_BYTES, type WholeFile } from '../../../src/sync/transfer';

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

describe('FetchFiles answers', () => {
  const file = (over: Partial<WholeFile> = {}): WholeFile => ({
    index: 2,
    status: 'ok',
    data: Buffer.from('whole file'),
    hash: HASH,
    mode: 0o640,
    mtimeMs: 1_700_000_000_123,
    ...over,
  });
  const message = (over: Partial<FetchFilesResponse> = {}): FetchFilesResponse => ({
    ...toFetchFilesResponse(file()),
    ...over,
  });

  it.each<[string, WholeFile]>([
    ['ok', file()],
    ['gone', file({ status: 'gone', data: Buffer.alloc(0), hash: '', mode: 0, mtimeMs: 0 })],
    ['large', file({ index: 0, status: 'large', data: Buffer.alloc(0), hash: '' })],
    ['a file of exactly SMALL_FILE_BYTES', file({ data: Buffer.alloc(SMALL_FILE_BYTES, 1) })],
  ])('%s survives the wire both ways', (_what, sent) => {
    const { data, ...got } = fromFetchFilesResponse(toFetchFilesResponse(sent), 3);
    const { data: sentData, ...rest } = sent;
    expect(got).toEqual(rest);
    // Compared as bytes: a deep equality of 256 KiB is slow.
    expect(Buffer.compare(data, sentData)).toBe(0);
    expect(data.length).toBe(sentData.length);
  });

  it('each status has its own wire value', () => {
    expect(toFetchFilesResponse(file({ status: 'ok' })).status).toBe(
      FetchFileStatus.FETCH_FILE_STATUS_OK,
    );
    expect(toFetchFilesResponse(file({ status: 'gone' })).status).toBe(
      FetchFileStatus.FETCH_FILE_STATUS_GONE,
    );
    expect(toFetchFilesResponse(file({ status: 'large' })).status).toBe(
      FetchFileStatus.FETCH_FILE_STATUS_LARGE,
    );
  });

  it('answers for the first and the last path asked are taken', () => {
    expect(fromFetchFilesResponse(message({ index: 0 }), 1).index).toBe(0);
    expect(fromFetchFilesResponse(message({ index: 63 }), 64).index).toBe(63);
  });

  it('the data is what the message carries, even as a view into a larger buffer', () => {
    const backing = Buffer.from('xxxxpayloadyyyy');
    const data = backing.subarray(4, 11);
    expect(fromFetchFilesResponse(message({ data }), 3).data.toString()).toBe('payload');
  });

  it('setuid and setgid never travel; the sticky bit and permissions do', () => {
    expect(fromFetchFilesResponse(message({ mode: 0o6755 }), 3).mode).toBe(0o755);
    expect(fromFetchFilesResponse(message({ mode: 0o1777 }), 3).mode).toBe(0o1777);
    // A member's whole st_mode: the type bits go too.
    expect(fromFetchFilesResponse(message({ mode: 0o100640 }), 3).mode).toBe(0o640);
  });

  it('a hash longer than a SHA-256 is cut to one', () => {
    expect(fromFetchFilesResponse(message({ hash: HASH + 'ff'.repeat(1000) }), 3).hash).toBe(HASH);
  });

  describe('a forged answer is refused', () => {
    it.each<[string, Partial<FetchFilesResponse>, number]>([
      ['a negative index', { index: -1 }, 3],
      ['an index equal to the paths asked', { index: 3 }, 3],
      ['an index past the paths asked', { index: 64 }, 3],
      ['an answer when nothing was asked', { index: 0 }, 0],
      ['an index that is not an integer', { index: 1.5 }, 3],
      ['an index that is not a number', { index: Number.NaN }, 3],
      ['data over SMALL_FILE_BYTES', { data: Buffer.alloc(SMALL_FILE_BYTES + 1) }, 3],
      [
        'a large answer with data over SMALL_FILE_BYTES',
        {
          status: FetchFileStatus.FETCH_FILE_STATUS_LARGE,
          data: Buffer.alloc(SMALL_FILE_BYTES + 1),
        },
        3,
      ],
      ['no status', { status: FetchFileStatus.FETCH_FILE_STATUS_UNSPECIFIED }, 3],
      ['an unrecognized status', { status: FetchFileStatus.UNRECOGNIZED }, 3],
    ])('%s', (_what, over, asked) => {
      expect(() => fromFetchFilesResponse(message(over), asked)).toThrow(InvalidInputError);
    });

    it('a status this build does not know, as it comes off the wire', () => {
      // Field 2 (status), varint 99; field 1 (index) left at 0.
      const decoded = FetchFilesResponse.decode(Uint8Array.from([0x10, 99]));
      expect(decoded.status).toBe(99);
      expect(() => fromFetchFilesResponse(decoded, 3)).toThrow(/status 99/);
      expect(() => fromFetchFilesResponse(decoded, 3)).toThrow(InvalidInputError);
    });
  });
});
