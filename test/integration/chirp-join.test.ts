import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { AgentProcess } from '../support/agent';
import type { LabHost } from '../support/bridge-lab';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import type { PrivateContainerd } from '../support/containerd';
import { until } from '../support/http-get';
import { testImages, type TestImages } from '../support/images';
import { httpGetIn, inNetns } from '../support/netns';

/**
 * `budgie chirp ID` with two real agents, each in its own network namespace with its own
 * containerd, on one isolated bridge (no route to any registry): node A runs an app from an OCI
 * archive that node B never sees; B joins it and gets the image blob by blob from A's containerd
 * over the peer API. A third namespace holds a stranger without a cluster certificate.
 */
const run = promisify(execFile);
const DIST = resolve(__dirname, '..', '..', 'dist');
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
const ctd = (i: number): PrivateContainerd => lab().containerd(i);
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
    startClusterLab({ label: 'cjoin', agents: 2, hosts: 3, subnet: '10.189' }),
    testImages(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'budgie-chirp-join-'));
});

afterAll(async () => {
  const problems = (await cl?.remove(['greet'])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

async function contentDigests(i: number): Promise<string[]> {
  const { stdout } = await run('ctr', [
    '--address',
    ctd(i).socket,
    '-n',
    ctd(i).namespace,
    'content',
    'ls',
    '-q',
  ]);
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

/** The blob's bytes as node i's containerd holds them, hashed here. */
async function sha256Of(i: number, digest: string): Promise<string> {
  const { stdout } = await run(
    'ctr',
    ['--address', ctd(i).socket, '-n', ctd(i).namespace, 'content', 'get', digest],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

async function chirpRows(i: number): Promise<ChirpRow[]> {
  const r = await budgie(i, 'chirp', '--format', 'json');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return (JSON.parse(r.stdout) as { replicas: ChirpRow[] }).replicas;
}

/** The failure of a command: one "budgie: " line, the last, after any progress lines. */
function failureLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines.filter((l) => l.startsWith('budgie: '))).toHaveLength(1);
  return lines[lines.length - 1]!;
}

/** GET from the stranger's namespace: the port as any LAN client reaches it. */
function httpGet(address: string, path: string): Promise<string> {
  return httpGetIn(host(2).netnsPath, `http://${address}:${APP_PORT}${path}`);
}

it("B joins A's app as a replica, with the image from A's containerd and no registry", async () => {
  const file = join(dir!, 'greet.bun');
  await writeFile(
    file,
    `version: "1.0"
name: greet
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${APP_PORT}
command: ["sh", "-c", "exec httpd -f -p 8080 -h /www"]
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

  // B's containerd starts empty: whatever it ends up holding came from A.
  expect(await contentDigests(1)).toEqual([]);
  const onA = (await chirpRows(1)).find((r) => r.node === nodeName(0))!;

  const started = Date.now();
  const r = await budgie(1, 'chirp', onA.id.slice(0, 12));
  console.log(`chirp join took ${Date.now() - started} ms:\n${r.stderr}`);
  expect(r.code).toBe(0);
  const newId = r.stdout.trim();
  expect(newId).toMatch(/^[0-9a-f]{64}$/);
  expect(r.stderr).toContain(`fetching app greet from ${nodeName(0)}`);
  expect(r.stderr).toMatch(/^blobs 1\/1$/m);
  expect(r.stderr).toContain('starting greet on this node');
  expect(r.stderr).not.toMatch(/resolving|budgie: /);

  // B runs it, healthy, and its own published port answers.
  const ps = await budgie(1, 'ps', '--format', 'json');
  const rows = JSON.parse(ps.stdout) as {
    id: string;
    app: string;
    state: string;
    health: string;
  }[];
  expect(rows.map((x) => [x.id, x.app, x.state, x.health])).toEqual([
    [newId, 'greet', 'running', 'healthy'],
  ]);
  const answer = await until('B answering on its port', 5000, async () => {
    const got = await httpGet(host(1).address, '/health');
    return got.startsWith('200') ? got : undefined;
  });
  expect(answer).toBe('200 ok');

  // The same blobs, byte for byte, on both nodes; B's hashes to their digests.
  const onBoth = await contentDigests(0);
  expect(onBoth).toContain(images.busyboxManifestDigest);
  expect(await contentDigests(1)).toEqual(onBoth);
  for (const digest of onBoth) expect(await sha256Of(1, digest)).toBe(digest);

  // The cluster sees both replicas.
  const cluster = await chirpRows(0);
  expect(cluster.map((x) => [x.app, x.node])).toEqual([
    ['greet', nodeName(0)],
    ['greet', nodeName(1)],
  ]);
  for (const i of [0, 1]) expect(agent(i).output()).not.toMatch(/unexpectedly|Z error /);
});

it('a second join past replicas.max is refused in one line', async () => {
  const onA = (await chirpRows(1)).find((r) => r.node === nodeName(0))!;
  const again = await budgie(1, 'chirp', onA.id.slice(0, 12));
  expect(again).toMatchObject({ code: 1, stdout: '' });
  expect(failureLine(again.stderr)).toBe(
    'budgie: app greet already runs 2 replica(s) in the cluster, its replicas.max of 2: not joining',
  );
  const unknown = await budgie(1, 'chirp', 'nosuchapp');
  expect(unknown.code).toBe(1);
  expect(failureLine(unknown.stderr)).toMatch(
    /^budgie: no app or replica named nosuchapp on this node or its members/,
  );
});

it('a stranger without a cluster certificate can neither GetApp nor read a blob', async () => {
  const caPem = await readFile(join(agent(0).stateDir, 'cluster', 'ca.crt'), 'utf8');
  const answers = JSON.parse(
    await inNetns(host(2).netnsPath, [
      process.execPath,
      '-e',
      STRANGER,
      DIST,
      `${host(0).address}:7447`,
      caPem,
      images.busyboxManifestDigest,
    ]),
  ) as { app: { code: number; json?: string }; blob: { code: number; bytes: number } };
  expect(answers.app.code).toBe(16); // UNAUTHENTICATED
  expect(answers.app.json).toBeUndefined();
  expect(answers.blob).toEqual({ code: 16, bytes: 0 });
});

it('a peer that cannot be reached is a one-line error', async () => {
  const onA = (await chirpRows(1)).find((r) => r.node === nodeName(0))!;
  await budgie(1, 'stop', 'greet', '--here');
  await agent(0).crash();
  const r = await budgie(1, 'chirp', onA.id.slice(0, 12));
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(failureLine(r.stderr)).toMatch(
    /^budgie: no app or replica named [0-9a-f]{12} .*did not answer: /,
  );
});

// Asks ReplicaService.GetApp and BlobService.Read over TLS that trusts the cluster CA but presents
// no client certificate.
const STRANGER = `
const [dist, target, ca, digest] = process.argv.slice(1);
const grpc = require(dist + '/../node_modules/@grpc/grpc-js');
const { ReplicaServiceClient, BlobServiceClient } = require(dist + '/gen/budgie/peer/v1/peer.js');
const creds = grpc.credentials.createSsl(Buffer.from(ca), null, null, { checkServerIdentity: () => undefined });
const replicas = new ReplicaServiceClient(target, creds);
const blobs = new BlobServiceClient(target, creds);
const out = {};
replicas.getApp({ target: 'greet' }, { deadline: Date.now() + 5000 }, (err, res) => {
  out.app = err ? { code: err.code } : { code: 0, json: res.appJson };
  let bytes = 0;
  const stream = blobs.read({ digest, offset: 0 }, { deadline: Date.now() + 5000 });
  stream.on('data', (m) => { bytes += m.data.length; });
  stream.on('error', (e) => { out.blob = { code: e.code, bytes }; finish(); });
  stream.on('end', () => { out.blob = out.blob || { code: 0, bytes }; finish(); });
});
let done = false;
function finish() { if (done) return; done = true; process.stdout.write(JSON.stringify(out)); replicas.close(); blobs.close(); }`;
