import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageArchive } from '../../../src/archive/image-archive';
import { indexTar } from '../../../src/archive/tar-index';
import { parseBundle } from '../../../src/bundle';
import type { DnsRecord } from '../../../src/discovery';
import { parseResponse } from '../../../src/discovery/parse-response';
import { decodeTxt } from '../../../src/discovery/txt';
import { BudgieError } from '../../../src/errors';
import {
  FetchFileStatus,
  SyncKind,
  type SyncRecord as WireRecord,
} from '../../../src/gen/budgie/peer/v1/sync';
import { decodeManifestDocument } from '../../../src/registry/manifest-document';
import { parseReference } from '../../../src/registry/reference';
import {
  fromFetchFilesResponse,
  fromWireRecord,
  fromWireSignature,
} from '../../../src/sync/sync-wire';
import { SMALL_FILE_BYTES } from '../../../src/sync/transfer';
import { checkEntryPath, linkStaysInside } from '../../../src/volumes';
import { FIXTURES } from '../bundle/fixtures';

/**
 * The parsers that take bytes from outside the node (a .bun from a user, a registry's manifest,
 * an image archive, an mDNS packet from anyone on the LAN, a member's sync records and files),
 * fed arbitrary and mutated
 * input: each returns or fails with a Budgie error (a one-line message), never anything else, and
 * what it accepts keeps its promises. `make fuzz` runs the same properties far longer
 * (FUZZ_RUNS, FUZZ_SECONDS); a counterexample it finds becomes a case here.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 0);
const settings = {
  numRuns: RUNS,
  ...(SECONDS > 0 && { interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false }),
};
jest.setTimeout(Math.max(30_000, SECONDS * 1000 * 2 + 10_000));

/** Runs `parse`; fine when it returns or throws a BudgieError; the error otherwise. */
function onlyBudgieErrors(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!(err instanceof BudgieError)) throw err;
  }
}

/** A string with some bytes of `base` replaced, inserted or cut. */
function mutated(base: string): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(fc.nat(base.length), fc.nat(8), fc.string({ maxLength: 8 })), {
      maxLength: 6,
    })
    .map((edits) =>
      edits.reduce((s, [at, cut, insert]) => s.slice(0, at) + insert + s.slice(at + cut), base),
    );
}

const FULL_BUN = readFileSync(join(FIXTURES, 'valid', 'full.bun'), 'utf8');

it('.bun: any text, and any edit of a valid file, parses or fails with a BundleError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 400 }), mutated(FULL_BUN)), (text) => {
      onlyBudgieErrors(() => parseBundle(text, 'fuzz.bun'));
    }),
    settings,
  );
});

it('registry manifests: any JSON and any bytes decode or fail with a Budgie error', () => {
  const contentType = fc.constantFrom(
    undefined,
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'text/plain',
  );
  const body = fc.oneof(
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  );
  fc.assert(
    fc.property(body, contentType, (bytes, type) => {
      onlyBudgieErrors(() => decodeManifestDocument(bytes, type, 'fuzz manifest'));
    }),
    settings,
  );
});

it('image references: any string parses or fails with a Budgie error', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => {
      onlyBudgieErrors(() => parseReference(text));
    }),
    settings,
  );
});

it('mDNS: any response packet from the LAN is read without throwing', () => {
  const name = fc.oneof(
    fc.constant('_budgie._tcp.local'),
    fc.string({ maxLength: 40 }).map((s) => `${s}._budgie._tcp.local`),
    fc.string({ maxLength: 40 }),
  );
  const txt = fc.array(
    fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
    {
      maxLength: 8,
    },
  );
  const record: fc.Arbitrary<DnsRecord> = fc.oneof(
    fc.record({ name, ttl: fc.nat(5000), type: fc.constant('PTR' as const), data: name }),
    fc.record({
      name,
      ttl: fc.nat(5000),
      type: fc.constant('SRV' as const),
      data: fc.record({ port: fc.integer({ min: -1, max: 70000 }), target: name }),
    }),
    fc.record({ name, ttl: fc.nat(5000), type: fc.constant('TXT' as const), data: txt }),
    fc.record({
      name,
      ttl: fc.nat(5000),
      type: fc.constantFrom('A' as const, 'AAAA' as const),
      data: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })),
    }),
  );
  fc.assert(
    fc.property(fc.array(record, { maxLength: 12 }), txt, (records, strings) => {
      parseResponse(records, '10.0.0.9');
      decodeTxt(strings);
    }),
    settings,
  );
});

it("a member's sync records: anything is refused, or a path inside the volume", () => {
  const segment = fc.oneof(
    fc.constantFrom('..', '.', '', 'a', 'b', '.budgie-sync-x.tmp', 'c\0', 'd\\e'),
    fc.string({ maxLength: 6 }),
  );
  const path = fc.oneof(
    fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/')),
    fc.string({ maxLength: 30 }),
  );
  const wire: fc.Arbitrary<WireRecord> = fc.record({
    path,
    kind: fc.constantFrom(
      SyncKind.SYNC_KIND_FILE,
      SyncKind.SYNC_KIND_DIR,
      SyncKind.SYNC_KIND_SYMLINK,
      SyncKind.SYNC_KIND_UNSPECIFIED,
      SyncKind.UNRECOGNIZED,
    ),
    mode: fc.nat(0xffffffff),
    mtimeUnixMs: fc.integer(),
    size: fc.oneof(fc.nat(), fc.integer(), fc.double()),
    linkTarget: path,
    hash: fc.oneof(fc.constant('a'.repeat(64)), fc.string({ maxLength: 70 })),
    deleted: fc.boolean(),
    version: fc.array(
      fc.record({
        nodeId: fc.string({ maxLength: 130 }),
        counter: fc.oneof(fc.nat(), fc.integer()),
      }),
      { maxLength: 70 },
    ),
    modifiedBy: fc.string({ maxLength: 130 }),
    sequence: fc.oneof(fc.nat(), fc.integer()),
  });
  fc.assert(
    fc.property(wire, (w) => {
      let record;
      try {
        record = fromWireRecord(w);
      } catch (err) {
        if (!(err instanceof BudgieError)) throw err;
        return;
      }
      // What is accepted is a path inside the volume, a link that stays in it, no setuid bits.
      expect(() => checkEntryPath(record.path)).not.toThrow();
      if (record.kind === 'symlink' && !record.deleted) {
        expect(linkStaysInside(record.path, record.linkTarget)).toBe(true);
      }
      expect(record.mode & 0o6000).toBe(0);
      expect(Number.isSafeInteger(record.size) && record.size >= 0).toBe(true);
    }),
    settings,
  );
});

it("a member's block signatures are bounded or refused", () => {
  const signature = fc.record({
    blockSize: fc.oneof(fc.nat(2 * 1024 * 1024), fc.integer()),
    basisSize: fc.oneof(fc.nat(10_000_000), fc.integer()),
    blocks: fc.array(
      fc.record({
        weak: fc.integer(),
        strong: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
      }),
      { maxLength: 40 },
    ),
  });
  fc.assert(
    fc.property(signature, (w) => {
      onlyBudgieErrors(() => fromWireSignature(w));
    }),
    settings,
  );
});

it("a member's whole files (FetchFiles) are bounded or refused", () => {
  const message = fc.record({
    index: fc.oneof(fc.nat(70), fc.integer()),
    status: fc.constantFrom(
      FetchFileStatus.FETCH_FILE_STATUS_UNSPECIFIED,
      FetchFileStatus.FETCH_FILE_STATUS_OK,
      FetchFileStatus.FETCH_FILE_STATUS_GONE,
      FetchFileStatus.FETCH_FILE_STATUS_LARGE,
      FetchFileStatus.UNRECOGNIZED,
    ),
    data: fc
      .oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(SMALL_FILE_BYTES + 1)))
      .map((b) => Buffer.from(b)),
    hash: fc.string({ maxLength: 100 }),
    mode: fc.integer(),
    mtimeUnixMs: fc.integer(),
  });
  fc.assert(
    fc.property(message, fc.nat(64), (m, asked) => {
      let file;
      try {
        file = fromFetchFilesResponse(m, asked);
      } catch (err) {
        if (!(err instanceof BudgieError)) throw err;
        return;
      }
      expect(file.index >= 0 && file.index < asked).toBe(true);
      expect(file.data.length).toBeLessThanOrEqual(SMALL_FILE_BYTES);
      expect(file.hash.length).toBeLessThanOrEqual(64);
      expect(file.mode & 0o6000).toBe(0);
    }),
    settings,
  );
});

describe('image archives', () => {
  let dir: string;
  /** A valid OCI layout archive (tar), made once, to be edited byte by byte. */
  let valid: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-fuzz-tar-'));
    const root = join(dir, 'layout');
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const layer = Buffer.from('layer bytes '.repeat(40));
    const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } }));
    const descriptor = (mediaType: string, b: Buffer) => ({
      mediaType,
      digest: `sha256:${sha(b)}`,
      size: b.length,
    });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: descriptor('application/vnd.oci.image.config.v1+json', config),
        layers: [descriptor('application/vnd.oci.image.layer.v1.tar', layer)],
      }),
    );
    for (const blob of [manifest, config, layer]) {
      await writeFile(join(root, 'blobs', 'sha256', sha(blob)), blob);
    }
    await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const index = {
      schemaVersion: 2,
      manifests: [
        {
          ...descriptor('application/vnd.oci.image.manifest.v1+json', manifest),
          annotations: { 'org.opencontainers.image.ref.name': 'fuzz:1' },
        },
      ],
    };
    await writeFile(join(root, 'index.json'), JSON.stringify(index));
    execFileSync('tar', ['-cf', join(dir, 'valid.tar'), '-C', root, '.']);
    valid = readFileSync(join(dir, 'valid.tar'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('any edit of a valid archive is read or refused with a Budgie error; entries stay inside it', async () => {
    // Bytes overwritten at any offset (headers, sizes, JSON), and the archive cut anywhere.
    const edits = fc.record({
      bytes: fc.array(fc.tuple(fc.nat(valid.length - 1), fc.nat(255)), { maxLength: 8 }),
      cut: fc.option(fc.nat(valid.length), { nil: undefined }),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(edits, async ({ bytes, cut }) => {
        const edited = Buffer.from(valid);
        for (const [at, value] of bytes) edited[at] = value;
        const data = cut === undefined ? edited : edited.subarray(0, cut);
        const path = join(dir, `case-${n++}.tar`);
        await writeFile(path, data);
        try {
          try {
            for (const entry of (await indexTar(path)).values()) {
              expect(entry.offset >= 0 && entry.offset + entry.size <= data.length).toBe(true);
            }
          } catch (err) {
            if (!(err instanceof BudgieError)) throw err;
          }
          try {
            await openImageArchive(path);
          } catch (err) {
            if (!(err instanceof BudgieError)) throw err;
          }
        } finally {
          await rm(path, { force: true });
        }
      }),
      settings,
    );
  });
});
