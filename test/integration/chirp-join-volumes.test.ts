import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProcess } from '../support/agent';
import type { LabHost } from '../support/bridge-lab';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import { until } from '../support/http-get';
import { testImages, type TestImages } from '../support/images';
import { httpGetIn } from '../support/netns';

/**
 * `budgie chirp ID` copies the app's rw volumes: two real agents, each in its own network
 * namespace with its own containerd, on one isolated bridge. Node A runs an httpd app that serves
 * an rw volume; B joins it, gets the volume by a first sync round over the peer API into its own
 * state dir (both agents share one filesystem here, which is why the joined copy lives under B's
 * state dir rather than at A's path), and serves the same files. A third namespace is a LAN
 * client. (test/integration/volume-sync.test.ts covers the sync that follows.)
 */
const APP_PORT = 8080;

let cl: ClusterLab | undefined;
let images: TestImages;
let dir: string | undefined;
const lab = (): ClusterLab => {
  if (cl === undefined) throw new Error('the cluster lab did not start');
  return cl;
};
const nodeName = (i: number) => lab().nodeName(i);
const host = (i: number): LabHost => lab().host(i);
const agent = (i: number): AgentProcess => lab().agent(i);
const budgie = (i: number, ...argv: string[]) => lab().budgie(i, ...argv);

interface ChirpRow {
  id: string;
  app: string;
  node: string;
  state: string;
  health: string;
}

beforeAll(async () => {
  [cl, images] = await Promise.all([
    startClusterLab({ label: 'cjvol', agents: 2, hosts: 3, subnet: '10.187' }),
    testImages(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'budgie-chirp-vol-'));
});

afterAll(async () => {
  const problems = (await cl?.remove(['files'])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

async function chirpRows(i: number): Promise<ChirpRow[]> {
  const r = await budgie(i, 'chirp', '--format', 'json');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return (JSON.parse(r.stdout) as { replicas: ChirpRow[] }).replicas;
}

/** GET from the stranger's namespace: the port as any LAN client reaches it. */
function httpGet(address: string, path: string): Promise<string> {
  return httpGetIn(host(2).netnsPath, `http://${address}:${APP_PORT}${path}`);
}

const MTIME_S = 1_700_000_000;
const BIG = Buffer.alloc(700 * 1024, 'x');

it("B joins A's app and gets a copy of its rw volume, served by B's replica", async () => {
  const www = join(dir!, 'www');
  const conf = join(dir!, 'conf');
  await mkdir(join(www, 'sub'), { recursive: true });
  await mkdir(conf);
  await writeFile(join(www, 'health'), 'ok');
  await writeFile(join(www, 'index.html'), 'hello from A');
  await writeFile(join(www, 'sub', 'secret.txt'), 'only root');
  await chmod(join(www, 'sub', 'secret.txt'), 0o600);
  await writeFile(join(www, 'big.bin'), BIG);
  await writeFile(join(www, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(www, 'run.sh'), 0o755);
  await symlink('index.html', join(www, 'alias.html'));
  await symlink('/etc/shadow', join(www, 'escape'));
  await utimes(join(www, 'index.html'), MTIME_S, MTIME_S);
  await writeFile(join(conf, 'app.conf'), 'host config');
  const confB = join(dir!, 'conf-b');
  await mkdir(confB);
  await writeFile(join(confB, 'app.conf'), "B's config");
  const file = join(dir!, 'files.bun');
  await writeFile(
    file,
    `version: "1.0"
name: files
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${APP_PORT}
volumes:
  - source: ${www}
    target: /www
  - source: ${conf}
    target: /conf
    mode: ro
command: ["sh", "-c", "ln -sfn /conf /www/conf; exec httpd -f -p 8080 -h /www"]
healthcheck:
  path: /health
  interval: 500ms
  timeout: 400ms
  retries: 2
replicas:
  min: 1
  max: 2
stop_timeout: 1s
`,
  );
  const ran = await budgie(0, 'run', file);
  expect(ran.stderr).not.toMatch(/budgie: /);
  expect(ran.code).toBe(0);

  await lab().form();

  const onA = (await chirpRows(1)).find((r) => r.node === nodeName(0))!;
  // The ro volume's source is a host path of A's: never mounted here unless B's admin says
  // where it comes from on B.
  const refused = await budgie(1, 'chirp', onA.id.slice(0, 12));
  expect(refused).toMatchObject({
    code: 1,
    stderr: expect.stringMatching(
      /^budgie: app files mounts host paths of its node read-only at \/conf; an app from a member never names host paths here: say which of this machine's with --volume-map \/conf=HOSTPATH for each\n$/m,
    ) as unknown,
  });
  await expect(lstat(join(agent(1).stateDir, 'volumes', 'files'))).rejects.toThrow(/ENOENT/);
  const r = await budgie(1, 'chirp', onA.id.slice(0, 12), '--volume-map', `/conf=${confB}`);
  console.log(`chirp join with a volume:\n${r.stderr}`);
  expect(r.stderr).not.toMatch(/budgie: /);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`mounting ${confB} of this machine read-only at /conf (--volume-map)`);
  const copy = join(agent(1).stateDir, 'volumes', 'files', '0');
  expect(r.stderr).toContain(`copying volume /www from ${nodeName(0)} into ${copy}`);
  expect(r.stderr).toContain(`copying volume /www: 5 files, ${2 + 12 + 9 + BIG.length + 10} bytes`);
  expect(r.stderr.indexOf('copying volume')).toBeLessThan(
    r.stderr.indexOf('starting files on this node'),
  );

  // The copy: content, modes, mtimes and the inside link; not the link out, not the ro volume.
  expect(await readFile(join(copy, 'index.html'), 'utf8')).toBe('hello from A');
  expect((await stat(join(copy, 'index.html'))).mtimeMs).toBe(MTIME_S * 1000);
  expect(await readFile(join(copy, 'sub', 'secret.txt'), 'utf8')).toBe('only root');
  expect((await stat(join(copy, 'sub', 'secret.txt'))).mode & 0o7777).toBe(0o600);
  expect((await stat(join(copy, 'run.sh'))).mode & 0o7777).toBe(0o755);
  expect(Buffer.compare(await readFile(join(copy, 'big.bin')), BIG)).toBe(0);
  expect(await readlink(join(copy, 'alias.html'))).toBe('index.html');
  await expect(lstat(join(copy, 'escape'))).rejects.toThrow(/ENOENT/);
  await expect(lstat(join(agent(1).stateDir, 'volumes', 'files', '1'))).rejects.toThrow(/ENOENT/);

  // B's replica serves the copy, and A's later changes follow it there (volume sync).
  const answer = await until('B serving the copied volume', 5000, async () => {
    const got = await httpGet(host(1).address, '/index.html');
    return got.startsWith('200') ? got : undefined;
  });
  expect(answer).toBe('200 hello from A');
  // Each replica's /conf is its own machine's: A's declared path there, B's mapped one here
  // (the port balances over both replicas, so both answers come).
  const confs = new Set<string>();
  for (let i = 0; i < 8; i++) confs.add(await httpGet(host(1).address, '/conf/app.conf'));
  expect([...confs].sort()).toEqual(["200 B's config", '200 host config']);
  await writeFile(join(www, 'index.html'), 'changed on A');
  await until('B serving the change', 8000, async () =>
    (await httpGet(host(1).address, '/index.html')) === '200 changed on A' ? true : undefined,
  );
  expect(await httpGet(host(1).address, '/sub/secret.txt')).toBe('200 only root');
  for (const i of [0, 1]) expect(agent(i).output()).not.toMatch(/unexpectedly|Z error /);
});

it('joining again syncs over the data already there: newer versions win, files only here stay', async () => {
  const copy = join(agent(1).stateDir, 'volumes', 'files', '0');
  const www = join(dir!, 'www');
  await budgie(1, 'stop', 'files', '--here');
  await writeFile(join(www, 'index.html'), 'changed on A again');
  await writeFile(join(copy, 'mine.txt'), 'B only');
  const onA = (await chirpRows(1)).find((r) => r.node === nodeName(0))!;
  const r = await budgie(
    1,
    'chirp',
    onA.id.slice(0, 12),
    '--volume-map',
    `/conf=${join(dir!, 'conf-b')}`,
  );
  expect(r.stderr).not.toMatch(/budgie: /);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(
    `copying volume /www from ${nodeName(0)} over the data already in ${copy} (a sync round: newer versions win, concurrent changes keep both)`,
  );
  expect(await readFile(join(copy, 'index.html'), 'utf8')).toBe('changed on A again');
  expect(await readFile(join(copy, 'mine.txt'), 'utf8')).toBe('B only');
  // What only B had is B's change: it reaches A once B runs the app again.
  await until('mine.txt on A', 8000, async () =>
    (await readFile(join(www, 'mine.txt'), 'utf8').catch(() => '')) === 'B only' ? true : undefined,
  );
});
