import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CATALOG } from '../../src/tools/imagebuild/catalog';
import { digestHex } from '../../src/tools/imagebuild/blob';
import { hostPlatform } from '../../src/tools/imagebuild/platform';
import { decodeJson, Index } from '../../src/oci/image-codecs';
import { testImages, type TestImages } from '../support/images';
import { freePort, pushImage, startRegistry, type LocalRegistry } from '../support/registry';

const run = promisify(execFile);
const out = async (cmd: string, args: string[]): Promise<string> => (await run(cmd, args)).stdout;
const skopeoInspect = async (...args: string[]): Promise<unknown> =>
  JSON.parse(await out('skopeo', ['inspect', '--tls-verify=false', ...args])) as unknown;
const blob = (layout: string, digest: string) =>
  readFile(join(layout, 'blobs', 'sha256', digestHex(digest)));

describe('offline test images', () => {
  let images: TestImages;
  let registry: LocalRegistry;
  let scratch: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    images = await testImages();
    registry = await startRegistry();
    scratch = await mkdtemp(join(tmpdir(), 'budgie-imagebuild-'));
  });
  afterAll(async () => {
    for (const child of children) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGKILL');
      await exited;
    }
    await registry.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Starts a process in its own group, so cleanup can take its children (sleep, CGI) with it. */
  function start(cmd: string, args: string[]): ChildProcess {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    children.push(child);
    return child;
  }

  it('umoci unpacks the layout into a rootfs with busybox and the runtime config', async () => {
    const bundle = join(scratch, 'umoci');
    await run('umoci', ['unpack', '--image', `${images.busyboxLayoutDir}:latest`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    expect((await stat(join(rootfs, 'bin', 'busybox'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(await readFile(join(rootfs, 'www', 'health'), 'utf8')).toBe('ok');
    const config: unknown = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      process: {
        args: ['httpd', '-f', '-p', '8080', '-h', '/www'],
        env: expect.arrayContaining(['PATH=/bin']),
      },
    });
  });

  it('the rootfs runs: httpd serves /, /health and CGI; busybox sh can ignore SIGTERM', async () => {
    const rootfs = join(scratch, 'umoci', 'rootfs');
    const port = await freePort();
    // The environment a container would get, not the test runner's.
    const env = ['/bin/env', '-i', 'PATH=/bin', 'GREETING=hi'];
    start('chroot', [rootfs, ...env, '/bin/httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/www']);
    const get = async (path: string): Promise<string> => {
      for (let i = 0; ; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}${path}`);
          return `${res.status} ${await res.text()}`;
        } catch (err) {
          if (i > 50) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    expect(await get('/')).toContain('200 <!doctype html>');
    expect(await get('/')).toContain('hello from budgie busybox-httpd');
    expect(await get('/health')).toBe('200 ok');
    expect(await get('/cgi-bin/env')).toMatch(/^200 [^]*\nGREETING=hi\n/);

    const stubborn = start('chroot', [
      rootfs,
      '/bin/sh',
      '-c',
      'trap "" TERM; echo ready; while true; do sleep 1; done',
    ]);
    // Signal only once the trap is set: before that, TERM would rightly end the shell.
    await new Promise((resolve) => stubborn.stdout?.once('data', resolve));
    stubborn.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stubborn.exitCode).toBeNull();
    expect(stubborn.signalCode).toBeNull();
  });

  it('the OCI tar and the docker save tar hold the same layer, which GNU tar extracts', async () => {
    const fromTar = join(scratch, 'from-tar');
    await run('mkdir', ['-p', fromTar]);
    await run('tar', ['-xf', images.busyboxOciTar, '-C', fromTar]);
    expect((await readdir(join(fromTar, 'blobs', 'sha256'))).sort()).toEqual(
      (await readdir(join(images.busyboxLayoutDir, 'blobs', 'sha256'))).sort(),
    );
    const saved = await out('tar', ['-tf', images.busyboxDockerTar]);
    const layerTar = saved.split('\n').find((l) => l.endsWith('/layer.tar'))!;
    const rootfs = join(scratch, 'from-docker');
    await run('mkdir', ['-p', rootfs]);
    await run('sh', [
      '-c',
      `tar -xOf "$1" "$2" | tar -x -C "$3"`,
      'sh',
      images.busyboxDockerTar,
      layerTar,
      rootfs,
    ]);
    expect((await stat(join(rootfs, 'bin', 'busybox'))).isFile()).toBe(true);
    expect(await out('readlink', [join(rootfs, 'bin', 'sh')])).toBe('busybox\n');
    // containers/image reads both forms too.
    expect(await skopeoInspect(`oci-archive:${images.busyboxOciTar}`)).toMatchObject({
      Digest: images.busyboxManifestDigest,
    });
    expect(await skopeoInspect(`docker-archive:${images.busyboxDockerTar}`)).toMatchObject({
      Architecture: hostPlatform().architecture,
      Env: ['PATH=/bin'],
    });
  });

  it('pushes a single-platform image that the registry serves byte for byte', async () => {
    const ref = `docker://${registry.host}/budgie-test/busybox-httpd:single`;
    await pushImage(images.busyboxLayoutDir, registry.host, 'budgie-test/busybox-httpd:single');
    const raw = await out('skopeo', ['inspect', '--tls-verify=false', '--raw', ref]);
    expect(raw).toBe(
      (await blob(images.busyboxLayoutDir, images.busyboxManifestDigest)).toString(),
    );
    const manifest: unknown = JSON.parse(raw);
    expect(manifest).toMatchObject({ mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(await skopeoInspect('--config', ref)).toMatchObject({
      architecture: hostPlatform().architecture,
      os: 'linux',
      config: {
        Cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'],
        Env: ['PATH=/bin'],
        ExposedPorts: { '8080/tcp': {} },
      },
    });
    expect(await skopeoInspect(ref)).toMatchObject({ Digest: images.busyboxManifestDigest });
  });

  it('pushes a multi-platform index and the registry picks each platform', async () => {
    const repo = `${registry.host}/budgie-test/busybox-multi`;
    await pushImage(images.multiPlatformLayoutDir, registry.host, 'budgie-test/busybox-multi:v1');
    const raw = await out('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${repo}:v1`,
    ]);
    const index = decodeJson(Index, raw, 'pushed index');
    expect(raw).toBe(
      (await blob(images.multiPlatformLayoutDir, images.multiPlatformIndexDigest)).toString(),
    );
    expect(index.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
    const arm = index.manifests[1]!;
    expect(await skopeoInspect(`docker://${repo}:v1`)).toMatchObject({
      Digest: images.multiPlatformIndexDigest,
    });
    for (const architecture of ['amd64', 'arm64']) {
      const config = skopeoInspect(
        '--config',
        '--override-arch',
        architecture,
        `docker://${repo}:v1`,
      );
      expect(await config).toMatchObject({ architecture, os: 'linux' });
    }
    const armRaw = await out('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${repo}@${arm.digest}`,
    ]);
    expect(armRaw).toBe((await blob(images.multiPlatformLayoutDir, arm.digest)).toString());
    // The host's variant is the very image pushed alone above.
    const host = index.manifests.find(
      (m) => m.platform?.architecture === hostPlatform().architecture,
    );
    expect(host?.digest).toBe(images.busyboxManifestDigest);

    // Pull the arm64 variant back and look inside: its files name its platform.
    const pulled = join(scratch, 'pulled');
    await run('skopeo', [
      'copy', '--quiet', '--src-tls-verify=false', '--override-arch', 'arm64',
      `docker://${repo}:v1`, `oci:${pulled}:arm`,
    ]); // prettier-ignore
    await run('umoci', ['unpack', '--image', `${pulled}:arm`, join(scratch, 'pulled-bundle')]);
    expect(
      await readFile(join(scratch, 'pulled-bundle', 'rootfs', 'www', 'platform'), 'utf8'),
    ).toBe('linux/arm64\n');
  });

  it('runs with deletes enabled', async () => {
    await pushImage(images.busyboxLayoutDir, registry.host, 'budgie-test/delete-me:v1');
    const url = `http://${registry.host}/v2/budgie-test/delete-me/manifests/${images.busyboxManifestDigest}`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(202);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(404);
  });

  it('make images output is reproducible, and its nginx rootfs passes nginx -t', async () => {
    const [a, b] = [join(scratch, 'make-a'), join(scratch, 'make-b')];
    for (const outDir of [a, b]) for (const entry of CATALOG) await entry.write(outDir);
    for (const name of ['busybox-httpd.tar', 'nginx.tar']) {
      expect((await readFile(join(a, name))).equals(await readFile(join(b, name)))).toBe(true);
    }
    const bundle = join(scratch, 'nginx-bundle');
    const layout = join(scratch, 'nginx-layout');
    await run('mkdir', ['-p', layout]);
    await run('tar', ['-xf', join(a, 'nginx.tar'), '-C', layout]);
    await run('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
    const { stderr } = await run('chroot', [
      join(bundle, 'rootfs'),
      '/usr/sbin/nginx',
      '-t',
      '-c',
      '/etc/nginx/nginx.conf',
    ]);
    expect(stderr).toContain('test is successful');
  });
});
