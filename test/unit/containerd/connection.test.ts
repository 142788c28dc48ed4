import { Metadata, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { ContainerdClient } from '../../../src/containerd/client';
import { NotFoundError, UnavailableError } from '../../../src/errors';
import {
  ContainersService,
  type Container,
  type GetContainerRequest,
  type GetContainerResponse,
} from '../../../src/gen/containerd/services/containers/v1/containers';
import {
  Kind,
  SnapshotsService,
  type ListSnapshotsRequest,
  type ListSnapshotsResponse,
} from '../../../src/gen/containerd/services/snapshots/v1/snapshots';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { startFakeContainerd, type FakeContainerd } from './fake-server';

describe('ContainerdConnection against a fake containerd', () => {
  let fake: FakeContainerd;
  let client: ContainerdClient;
  const seen: { namespace: string[]; lease: string[] }[] = [];

  const get = (
    call: ServerUnaryCall<GetContainerRequest, GetContainerResponse>,
    done: sendUnaryData<GetContainerResponse>,
  ): void => {
    seen.push({
      namespace: call.metadata.get('containerd-namespace').map(String),
      lease: call.metadata.get('containerd-lease').map(String),
    });
    const { id } = call.request;
    if (id === 'slow') return; // never answers: the client's deadline or signal must end it
    if (id === 'missing') {
      done({
        code: status.NOT_FOUND,
        details: `container "${id}": not found`,
        metadata: new Metadata(),
      });
      return;
    }
    const container: Container = {
      id,
      labels: { 'budgie.app': 'web' },
      image: '',
      snapshotter: '',
      snapshotKey: '',
      extensions: {},
    };
    done(null, { container });
  };

  const list = (call: ServerWritableStream<ListSnapshotsRequest, ListSnapshotsResponse>): void => {
    // One page, then silence: the stream stays open until the client cancels it.
    call.write({ info: [{ name: 'layer-1', parent: '', kind: Kind.COMMITTED, labels: {} }] });
  };

  beforeAll(async () => {
    fake = await startFakeContainerd([
      [ContainersService, { get }],
      [SnapshotsService, { list }],
    ]);
    client = ContainerdClient.connect({
      socket: fake.socket,
      namespace: 'budgie-unit',
      defaultTimeoutMs: 300,
    });
  });

  afterAll(async () => {
    client.close();
    await fake.stop();
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('sends the namespace (and a lease when asked) on every call', async () => {
    const container = await client.containers.get('web-1', { lease: 'lease-1' });
    expect(container.labels).toEqual({ 'budgie.app': 'web' });
    await client.containers.get('web-2');
    expect(seen).toEqual([
      { namespace: ['budgie-unit'], lease: ['lease-1'] },
      { namespace: ['budgie-unit'], lease: [] },
    ]);
  });

  it("maps containerd's statuses to Budgie errors", async () => {
    const call = client.containers.get('missing');
    await expect(call).rejects.toBeInstanceOf(NotFoundError);
    await expect(call).rejects.toThrow('container "missing": not found');
  });

  it('applies the default deadline to unary calls', async () => {
    const call = client.containers.get('slow');
    await expect(call).rejects.toBeInstanceOf(UnavailableError);
    await expect(call).rejects.toThrow(
      `containerd at ${fake.socket} did not answer Containers.Get in time`,
    );
  });

  it('cancels a unary call when its signal aborts, with the signal reason', async () => {
    const controller = new AbortController();
    const call = client.containers.get('slow', { signal: controller.signal, timeoutMs: Infinity });
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await expect(client.containers.get('web', { signal: controller.signal })).rejects.toMatchObject(
      {
        name: 'AbortError',
      },
    );
  });

  it('ends a server stream when its signal aborts', async () => {
    const controller = new AbortController();
    const names: string[] = [];
    const stream = client.connection.serverStream(
      SnapshotsService.list,
      { snapshotter: 'overlayfs', filters: [] },
      { signal: controller.signal },
    );
    await expect(
      (async () => {
        for await (const page of stream) {
          names.push(...page.info.map((info) => info.name));
          controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(names).toEqual(['layer-1']);
  });
});
