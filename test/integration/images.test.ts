import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AgentClient } from '../../src/api/client';
import { LayerState, type Image, type PullImageResponse } from '../../src/gen/budgie/v1/images';
import { hostPlatform, formatPlatform } from '../../src/registry';
import { startAgent, type AgentProcess } from '../support/agent';
import { cli } from '../support/cli';
import { startContainerd, type PrivateContainerd } from '../support/containerd';
import { testImages, type TestImages } from '../support/images';
import { pushImage, startRegistry, type LocalRegistry } from '../support/registry';

const run = promisify(execFile);

/** Images through a real agent process, a private containerd and Debian's docker-registry. */
describe('images through the agent', () => {
  let containerd: PrivateContainerd;
  let registry: LocalRegistry;
  let images: TestImages;
  let agent: AgentProcess;
  let client: AgentClient;
  const repo = `imgtest-${process.pid}`;

  beforeAll(async () => {
    [containerd, registry, images] = await Promise.all([
      startContainerd(),
      startRegistry(),
      testImages(),
    ]);
    await pushImage(images.busyboxLayoutDir, registry.host, `${repo}/single:1`);
    await pushImage(images.multiPlatformLayoutDir, registry.host, `${repo}/multi:1`);
    agent = await startAgent(containerd.socket, containerd.namespace);
    client = agent.client;
  });

  afterAll(async () => {
    await agent.stop();
    await Promise.all([registry.stop(), containerd.stop()]);
  });

  async function pull(reference: string): Promise<{ events: PullImageResponse[]; image: Image }> {
    const events: PullImageResponse[] = [];
    for await (const ev of client.pullImage(reference)) events.push(ev);
    const last = events[events.length - 1]?.event;
    if (last?.$case !== 'done')
      throw new Error(`pull ended without an image: ${JSON.stringify(last)}`);
    return { events, image: last.value };
  }

  /** The last state each layer reported. */
  function finalStates(events: PullImageResponse[]): Map<string, LayerState> {
    const states = new Map<string, LayerState>();
    for (const { event } of events) {
      if (event?.$case === 'layer') states.set(event.value.digest, event.value.state);
    }
    return states;
  }

  async function ctr(...args: string[]): Promise<string> {
    const { stdout } = await run(
      'ctr',
      ['--address', containerd.socket, '-n', containerd.namespace, ...args],
      { timeout: 60_000 },
    );
    return stdout;
  }

  it('pulls a single-platform image: downloads, unpacks, records', async () => {
    const ref = `${registry.host}/${repo}/single:1`;
    const { events, image } = await pull(ref);
    expect(image).toMatchObject({
      name: ref,
      digest: images.busyboxManifestDigest,
      platform: formatPlatform(hostPlatform()),
    });
    expect(image.size).toBeGreaterThan(500_000);
    const states = finalStates(events);
    expect(states.size).toBeGreaterThan(0);
    for (const state of states.values()) expect(state).toBe(LayerState.LAYER_STATE_UNPACKED);
    const listed = await client.listImages();
    expect(listed.map((i) => i.name)).toContain(ref);
  });

  it('re-pulling downloads and unpacks nothing', async () => {
    const { events } = await pull(`${registry.host}/${repo}/single:1`);
    const states = finalStates(events);
    expect(states.size).toBeGreaterThan(0);
    for (const state of states.values()) expect(state).toBe(LayerState.LAYER_STATE_EXISTS);
    const moved = events.filter(
      (e) =>
        e.event?.$case === 'layer' && e.event.value.state === LayerState.LAYER_STATE_DOWNLOADING,
    );
    expect(moved).toEqual([]);
  });

  it("runs a pulled image with plain 'ctr run' (the unpack is what containerd expects)", async () => {
    const id = `ctr-${randomBytes(6).toString('hex')}`;
    const out = await ctr(
      'run',
      '--rm',
      `${registry.host}/${repo}/single:1`,
      id,
      '/bin/busybox',
      'cat',
      '/www/health',
    );
    expect(out.trim()).toBe('ok');
  });

  it("picks this machine's platform from a multi-platform index", async () => {
    const ref = `${registry.host}/${repo}/multi:1`;
    const { image } = await pull(ref);
    expect(image.digest).toBe(images.multiPlatformIndexDigest);
    expect(image.platform).toBe(formatPlatform(hostPlatform()));
    const check = await ctr('images', 'check', `name==${ref}`);
    expect(check).toMatch(/complete/);
  });

  it('imports an OCI layout tar and a docker save tar through the CLI', async () => {
    const oci = await cli(['--socket', agent.socket, 'image', 'import', images.busyboxOciTar]);
    expect(oci.code).toBe(0);
    expect(oci.stdout).toMatch(/^localhost\/busybox-httpd:latest sha256:[0-9a-f]{64}\n$/);
    const docker = await cli([
      '--socket',
      agent.socket,
      'image',
      'import',
      images.busyboxDockerTar,
    ]);
    expect(docker.code).toBe(0);
    const ls = await cli(['--socket', agent.socket, 'image', 'ls', '--format', 'json']);
    const names = (JSON.parse(ls.stdout) as { name: string }[]).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['docker.io/library/busybox-httpd:latest']));
    expect(names.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses an archive past --max-import in one line, and imports nothing', async () => {
    const small = await startAgent(containerd.socket, containerd.namespace, [
      '--max-import',
      '64KiB',
    ]);
    try {
      const before = (await small.client.listImages()).length;
      const r = await cli(['--socket', small.socket, 'image', 'import', images.busyboxOciTar]);
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: `budgie: import: the archive is larger than this agent takes (--max-import, ${64 * 1024} bytes); raise it if the archive is meant\n`,
      });
      expect((await small.client.listImages()).length).toBe(before);
      expect(await readdir(join(small.stateDir, 'tmp')).catch(() => [])).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  it('removes an image and says clearly when there is none', async () => {
    const ref = `${registry.host}/${repo}/multi:1`;
    const rm = await cli(['--socket', agent.socket, 'image', 'rm', ref]);
    expect(rm.code).toBe(0);
    expect((await client.listImages()).map((i) => i.name)).not.toContain(ref);
    const again = await cli(['--socket', agent.socket, 'image', 'rm', ref]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`budgie: image ${ref} is not on this node (see 'budgie image ls')\n`);
  });

  it('reports a missing tag and an unreachable registry in one line each', async () => {
    const missing = await cli([
      '--socket',
      agent.socket,
      'image',
      'pull',
      `${registry.host}/${repo}/single:nope`,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\nbudgie: .*single:nope.*not found\n$/);
    const down = await cli(['--socket', agent.socket, 'image', 'pull', '127.0.0.1:1/x/y:1']);
    expect(down.code).toBe(1);
    const lines = down.stderr.split('\n').filter((l) => l.startsWith('budgie:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/127\.0\.0\.1:1/);
  });
});
