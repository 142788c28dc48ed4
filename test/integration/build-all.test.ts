import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startAgent } from '../support/agent';
import { startContainerd } from '../support/containerd';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const TARGETS = ['linux/amd64', 'windows/arm64'];

interface Build {
  dir: string;
  sums: string;
  log: string;
}

/** build-all.sh into a temp OUT_DIR; the standalone executable is built when the host is amd64. */
async function buildAll(parent: string, name: string): Promise<Build> {
  const dir = join(parent, name);
  const { stdout } = await run(join(ROOT, 'build-all.sh'), TARGETS, {
    cwd: ROOT,
    env: { ...process.env, OUT_DIR: dir },
    maxBuffer: 16 * 1024 * 1024,
  });
  return { dir, sums: await readFile(join(dir, 'SHA256SUMS'), 'utf8'), log: stdout };
}

describe('build-all.sh', () => {
  let work: string;
  let first: Build;
  let second: Build;
  let version: string;
  let unpacked: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'budgie-build-all-'));
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    version = pkg.version;
    first = await buildAll(work, 'one');
    second = await buildAll(work, 'two');
    unpacked = join(work, 'unpacked');
    await run('mkdir', ['-p', unpacked]);
    await run('tar', [
      '-xzf',
      join(first.dir, `budgie-${version}-linux-amd64.tar.gz`),
      '-C',
      unpacked,
    ]);
  }, 120_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes one package per target and a SHA256SUMS that verifies', async () => {
    const files = (await readdir(first.dir)).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'SHA256SUMS',
        `budgie-${version}-linux-amd64.tar.gz`,
        `budgie-${version}-windows-arm64.zip`,
      ]),
    );
    const listed = first.sums
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/)[1]);
    expect(listed.sort()).toEqual(files.filter((f) => f !== 'SHA256SUMS'));
    await run('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: first.dir });
  });

  it('is reproducible: a second build gives the same checksums', () => {
    expect(second.sums).toBe(first.sums);
  });

  it('packs the bundle, proto/, a launcher, README and LICENSE', async () => {
    const { stdout: tarList } = await run('tar', [
      '-tvzf',
      join(first.dir, `budgie-${version}-linux-amd64.tar.gz`),
    ]);
    const top = `budgie-${version}-linux-amd64/`;
    for (const f of [
      'budgie',
      'budgie.js',
      // The sync engine's file jobs run on worker threads started from this script.
      'file-worker.js',
      'README.md',
      'LICENSE',
      'proto/budgie/v1/apps.proto',
      // The volume sync watcher's binary for the build machine's platform (npm installed it).
      'node_modules/@parcel/watcher-linux-x64-glibc/watcher.node',
    ]) {
      expect(tarList).toContain(top + f);
    }
    expect(tarList).toMatch(/^-rwxr-xr-x 0\/0 .* budgie-[^/]+\/budgie$/m);
    const { stdout: zipList } = await run('unzip', [
      '-Z1',
      join(first.dir, `budgie-${version}-windows-arm64.zip`),
    ]);
    const wtop = `budgie-${version}-windows-arm64/`;
    for (const f of [
      'budgie.cmd',
      'budgie.js',
      'README.md',
      'LICENSE',
      'proto/health/v1/health.proto',
    ]) {
      expect(zipList.split('\n')).toContain(wtop + f);
    }
  });

  it('runs the bundle with node and through the launcher', async () => {
    const dir = join(unpacked, `budgie-${version}-linux-amd64`);
    const bundled = await run(process.execPath, [join(dir, 'budgie.js'), '--version']);
    expect(bundled.stdout.trim()).toBe(version);
    const launched = await run(join(dir, 'budgie'), ['--help'], {
      env: { ...process.env, BUDGIE_NODE: process.execPath },
    });
    expect(launched.stdout).toContain('budgie <command>');
    expect(launched.stdout).toContain('agent');
  });

  it('builds a standalone executable for the host, or says why not', async () => {
    const name = `budgie-${version}-linux-amd64-standalone`;
    if (!first.log.includes(`${name}.tar.gz`)) {
      expect(first.log).toContain('skipping the standalone executable');
      return;
    }
    const into = join(work, 'standalone');
    await run('mkdir', ['-p', into]);
    await run('tar', ['-xzf', join(first.dir, `${name}.tar.gz`), '-C', into]);
    const { stdout } = await run(join(into, name, 'budgie'), ['--version']);
    expect(stdout.trim()).toBe(version);
  });

  // The agent loads its .proto files (its API, health, reflection) beside the bundle at run time.
  it("runs the bundled agent: its API answers, so the bundle's .proto files load", async () => {
    const containerd = await startContainerd();
    try {
      const main = join(unpacked, `budgie-${version}-linux-amd64`, 'budgie.js');
      const agent = await startAgent(containerd.socket, containerd.namespace, [], { main });
      try {
        const info = await agent.client.info();
        expect(info.budgieVersion).toBe(version);
      } finally {
        await agent.stop();
      }
    } finally {
      await containerd.stop();
    }
  });
});
