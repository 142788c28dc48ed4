import { createHash } from 'node:crypto';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { ContainerdClient } from '../../../src/containerd/client';
import { InvalidInputError } from '../../../src/errors';
import {
  ContentService,
  WriteAction,
  type WriteContentRequest,
  type WriteContentResponse,
} from '../../../src/gen/containerd/services/content/v1/content';
import { startFakeContainerd, type FakeContainerd } from './fake-server';

const EXISTING = `sha256:${'e'.repeat(64)}`;

/** An in-memory content store speaking containerd's Write protocol: one answer per request. */
class FakeIngests {
  readonly data = new Map<string, Buffer>();
  readonly requests: WriteContentRequest[] = [];
  readonly committed = new Map<string, { data: Buffer; labels: Record<string, string> }>();

  write = (call: ServerDuplexStream<WriteContentRequest, WriteContentResponse>): void => {
    call.on('data', (req: WriteContentRequest) => {
      this.requests.push(req);
      if (req.expected === EXISTING) {
        call.emit('error', {
          code: status.ALREADY_EXISTS,
          details: `content ${EXISTING}: already exists`,
        });
        return;
      }
      let held = this.data.get(req.ref) ?? Buffer.alloc(0);
      if (req.action !== WriteAction.STAT) {
        if (req.offset !== held.length) {
          call.emit('error', {
            code: status.OUT_OF_RANGE,
            details: `write @${req.offset} must occur at current offset ${held.length}`,
          });
          return;
        }
        held = Buffer.concat([held, req.data]);
        this.data.set(req.ref, held);
      }
      let digest = '';
      if (req.action === WriteAction.COMMIT) {
        digest = `sha256:${createHash('sha256').update(held).digest('hex')}`;
        if (digest !== req.expected || held.length !== req.total) {
          call.emit('error', {
            code: status.FAILED_PRECONDITION,
            details: `unexpected commit digest ${digest}`,
          });
          return;
        }
        this.committed.set(digest, { data: held, labels: req.labels });
        this.data.delete(req.ref);
      }
      call.write({ action: req.action, offset: held.length, total: req.total, digest });
    });
    call.on('end', () => call.end());
  };
}

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

describe('content write against a fake containerd', () => {
  let fake: FakeContainerd;
  let client: ContainerdClient;
  let ingests: FakeIngests;

  beforeAll(async () => {
    ingests = new FakeIngests();
    fake = await startFakeContainerd([[ContentService, { write: ingests.write }]]);
    client = ContainerdClient.connect({ socket: fake.socket, namespace: 'budgie-unit' });
  });

  afterAll(async () => {
    client.close();
    await fake.stop();
  });

  it('stats, writes in chunks of at most 1 MiB at increasing offsets, then commits with labels', async () => {
    const blob = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
    const digest = digestOf(blob);
    const result = await client.content.write({
      ref: 'fresh',
      expected: digest,
      total: blob.length,
      labels: { 'containerd.io/gc.ref.content.l.0': 'sha256:abc' },
      open: () => [blob.subarray(0, 10), blob.subarray(10)],
    });
    expect(result).toEqual({ digest, size: blob.length, existed: false });
    const mine = ingests.requests.filter((req) => req.ref === 'fresh');
    expect(mine.map((req) => req.action)).toEqual([
      WriteAction.STAT,
      ...Array<WriteAction>(4).fill(WriteAction.WRITE),
      WriteAction.COMMIT,
    ]);
    expect(mine.map((req) => req.data.length)).toEqual([0, 1 << 20, 1 << 20, 1 << 20, 5, 0]);
    expect(ingests.committed.get(digest)?.labels).toEqual({
      'containerd.io/gc.ref.content.l.0': 'sha256:abc',
    });
  });

  it('resumes from the offset containerd reports', async () => {
    const blob = Buffer.from('resumable content');
    ingests.data.set('resume', blob.subarray(0, 9));
    const offsets: number[] = [];
    const result = await client.content.write({
      ref: 'resume',
      expected: digestOf(blob),
      total: blob.length,
      open: (offset) => {
        offsets.push(offset);
        return [blob.subarray(offset)];
      },
    });
    expect(offsets).toEqual([9]);
    expect(result.existed).toBe(false);
    expect(ingests.committed.get(digestOf(blob))?.data.equals(blob)).toBe(true);
  });

  it('reports a blob containerd already has without reading it', async () => {
    const result = await client.content.write({
      ref: 'existing',
      expected: EXISTING,
      total: 3,
      open: () => {
        throw new Error('must not be read');
      },
    });
    expect(result).toEqual({ digest: EXISTING, size: 3, existed: true });
  });

  it('fails with what containerd says when the bytes do not match', async () => {
    const write = client.content.write({
      ref: 'corrupt',
      expected: `sha256:${'0'.repeat(64)}`,
      total: 4,
      open: () => [Buffer.from('oops')],
    });
    await expect(write).rejects.toThrow(/unexpected commit digest/);
  });

  it('maps an out-of-order write', async () => {
    const session = client.content.openWriter();
    try {
      await session.send({ action: WriteAction.STAT, ref: 'skip', total: 10 });
      const write = session.send({
        action: WriteAction.WRITE,
        ref: 'skip',
        offset: 5,
        data: Buffer.from('x'),
      });
      await expect(write).rejects.toBeInstanceOf(InvalidInputError);
      await expect(session.send({ action: WriteAction.STAT, ref: 'skip' })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    } finally {
      session.close();
    }
  });
});
