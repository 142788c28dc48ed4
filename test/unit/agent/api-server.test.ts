import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AgentClient } from '../../../src/api/client';
import { ApiServer } from '../../../src/agent/api-server';
import { imageService } from '../../../src/agent/services/images';
import { nodeService } from '../../../src/agent/services/node';
import { ConflictError, NotFoundError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { FakeImageStore } from '../../support/fakes/image-store';
import { healthStatus, reflectedServices } from '../../support/grpc-probe';

const image = {
  name: 'docker.io/library/web:1',
  digest: 'sha256:' + 'b'.repeat(64),
  size: 1234,
  platform: 'linux/amd64',
  createdMs: 1,
};

describe('the agent API server', () => {
  let dir: string;
  let socket: string;
  let server: ApiServer;
  let client: AgentClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-api-'));
    socket = join(dir, 'budgie.sock');
    const log = silentLogger();
    const facts = {
      nodeName: 'node-a',
      budgieVersion: '1.2.3',
      containerdNamespace: 'budgie',
      snapshotter: 'overlayfs',
      containerdVersion: () => Promise.resolve('1.6.20'),
    };
    server = new ApiServer(socket, [
      nodeService(facts, log),
      imageService(new FakeImageStore({ web: image }), dir, log),
    ]);
    await server.start();
    server.setServing(true);
    client = new AgentClient(socket);
  });

  afterAll(async () => {
    client.close();
    await server.stop(1000);
    await rm(dir, { recursive: true, force: true });
  });

  it('listens with mode 0660, bound in a private directory it leaves no trace of', async () => {
    expect((await stat(socket)).mode & 0o777).toBe(0o660);
    expect((await readdir(dirname(socket))).filter((n) => n.startsWith('.budgie-sock-'))).toEqual(
      [],
    );
  });

  it('answers GetInfo', async () => {
    expect(await client.info()).toEqual({
      nodeName: 'node-a',
      budgieVersion: '1.2.3',
      containerdVersion: '1.6.20',
      containerdNamespace: 'budgie',
      snapshotter: 'overlayfs',
    });
  });

  it('streams pull progress and the image, then lists it', async () => {
    const events = [];
    for await (const ev of client.pullImage('web')) events.push(ev.event?.$case);
    expect(events[0]).toBe('phase');
    expect(events).toContain('layer');
    expect(events.at(-1)).toBe('done');
    expect((await client.listImages()).map((i) => i.name)).toEqual([image.name]);
  });

  it("maps the store's errors to the same Budgie errors on the client", async () => {
    await expect(client.removeImage('nope')).rejects.toThrow(
      new NotFoundError('image nope not found'),
    );
    const pull = async () => {
      const events = [];
      for await (const ev of client.pullImage('missing')) events.push(ev);
      return events;
    };
    await expect(pull()).rejects.toThrow(new NotFoundError('image missing not found'));
  });

  it('refuses to start a second agent on the same socket', async () => {
    const second = new ApiServer(socket, []);
    await expect(second.start()).rejects.toThrow(ConflictError);
  });

  it('replaces a stale socket file left by a dead agent', async () => {
    const stale = join(dir, 'stale.sock');
    await writeFile(stale, '');
    const other = new ApiServer(stale, []);
    await other.start();
    await other.stop(100);
  });

  it('serves gRPC health and reflection (what grpcurl uses)', async () => {
    expect(await healthStatus(`unix://${socket}`)).toBe('SERVING');
    expect(await reflectedServices(`unix://${socket}`)).toEqual([
      'budgie.v1.AppService',
      'budgie.v1.ChirpService',
      'budgie.v1.ClusterService',
      'budgie.v1.ImageService',
      'budgie.v1.NodeService',
      'grpc.health.v1.Health',
    ]);
  });
});
