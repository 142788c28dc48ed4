import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentProcess } from '../support/agent';
import type { LabHost } from '../support/bridge-lab';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import { cli } from '../support/cli';
import { testImages, type TestImages } from '../support/images';
import { inNetns } from '../support/netns';

/**
 * `budgie chirp`, `ps --all-nodes` and `logs` of a remote replica with two real agents, each in
 * its own network namespace with its own containerd, on one bridge; a third namespace holds a
 * stranger without a cluster certificate, who must learn nothing of replicas or logs.
 */
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
const budgie = (i: number, ...argv: string[]) => lab().budgie(i, ...argv);

interface ChirpJson {
  clustered: boolean;
  replicas: {
    id: string;
    app: string;
    node: string;
    nodeId: string;
    state: string;
    health: string;
    addresses: string[];
    replicas: { running: number; min: number; max: number };
  }[];
  unreachable: { name: string; address: string; reason: string }[];
}

beforeAll(async () => {
  [cl, images] = await Promise.all([
    startClusterLab({ label: 'chirp', agents: 2, hosts: 3, subnet: '10.193' }),
    testImages(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'budgie-chirp-'));
});

afterAll(async () => {
  const problems = (await cl?.remove(['hello'])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

async function runHello(i: number): Promise<void> {
  const file = join(dir!, `hello-${i}.bun`);
  await writeFile(
    file,
    `version: "1.0"
name: hello
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${APP_PORT}
environment:
  - WHO=${nodeName(i)}
command: ["sh", "-c", "echo hello from $WHO; exec httpd -f -p 8080 -h /www"]
healthcheck:
  path: /health
  interval: 500ms
  timeout: 400ms
  retries: 2
replicas:
  min: 1
  max: 3
stop_timeout: 1s
`,
  );
  const r = await budgie(i, 'run', file);
  // Progress goes to stderr; a failure is a "budgie: " line.
  expect(r.stderr).not.toMatch(/budgie: /);
  expect(r.code).toBe(0);
}

async function chirpJson(i: number): Promise<ChirpJson> {
  const r = await budgie(i, 'chirp', '--format', 'json');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as ChirpJson;
}

it('outside a cluster, chirp lists this node only and says so', async () => {
  await Promise.all([runHello(0), runHello(1)]);
  const alone = await chirpJson(0);
  expect(alone.clustered).toBe(false);
  expect(alone.replicas.map((r) => r.node)).toEqual([nodeName(0)]);
  const table = await budgie(0, 'chirp');
  expect(table.stdout).toContain('This node is in no cluster: only its own replicas are listed.');
});

it("chirp, ps --all-nodes and logs see both nodes' replicas", async () => {
  await lab().form();

  for (const i of [0, 1]) {
    const started = Date.now();
    const res = await chirpJson(i);
    console.log(`chirp from ${nodeName(i)} answered in ${Date.now() - started} ms`);
    expect(res.clustered).toBe(true);
    expect(res.unreachable).toEqual([]);
    expect(res.replicas.map((r) => [r.app, r.node, r.state, r.health])).toEqual([
      ['hello', nodeName(0), 'running', 'healthy'],
      ['hello', nodeName(1), 'running', 'healthy'],
    ]);
    for (const [n, r] of res.replicas.entries()) {
      expect(r.addresses).toEqual([`${host(n).address}:${APP_PORT}`]);
      expect(r.replicas).toEqual({ running: 2, min: 1, max: 3 });
    }
  }

  const table = await budgie(1, 'chirp');
  const [header, ...rows] = table.stdout.trimEnd().split('\n');
  expect(header).toMatch(/^ID\s+APP\s+IMAGE\s+NODE\s+ADDRESS\s+HEALTH\s+REPLICAS$/);
  expect(rows).toHaveLength(2);
  expect(rows[1]).toMatch(
    new RegExp(
      `^[0-9a-f]{12}\\s+hello\\s+\\S+\\s+${nodeName(1)}\\s+${host(1).address}:${APP_PORT}\\s+healthy\\s+2/1\\.\\.3$`,
    ),
  );

  const ps = await budgie(1, 'ps', '--all-nodes', '--format', 'json');
  expect(ps).toMatchObject({ code: 0, stderr: '' });
  const psRows = JSON.parse(ps.stdout) as { id: string; node: string }[];
  expect(psRows.map((r) => r.node)).toEqual([nodeName(0), nodeName(1)]);
  const psTable = await budgie(0, 'ps', '--all-nodes');
  expect(psTable.stdout).toContain(nodeName(1));

  // node-a reads node-b's replica through the peer API, by a short ID it does not run itself.
  const remote = (await chirpJson(0)).replicas.find((r) => r.node === nodeName(1))!;
  const logs = await budgie(0, 'logs', remote.id.slice(0, 12));
  expect(logs).toMatchObject({ code: 0, stderr: '' });
  expect(logs.stdout).toContain(`hello from ${nodeName(1)}`);
  expect(logs.stdout).not.toContain(`hello from ${nodeName(0)}`);

  // Following a remote replica streams until Ctrl-C (the signal), which is not a failure.
  const stop = new AbortController();
  let followed = '';
  const follow = cli(['logs', '-f', remote.id.slice(0, 12), '--socket', agent(0).socket], {
    signal: stop.signal,
    stdout: {
      write: (text) => {
        followed += text;
        if (followed.includes(`hello from ${nodeName(1)}`)) stop.abort();
      },
      isTTY: false,
    },
  });
  const timer = setTimeout(() => {
    stop.abort();
  }, 10_000);
  const followResult = await follow;
  clearTimeout(timer);
  expect(followResult).toMatchObject({ code: 0, stderr: '' });
  expect(followed).toContain(`hello from ${nodeName(1)}`);
  // Cancelling the followed stream ends the peer call on both agents without an error logged.
  await new Promise((done) => setTimeout(done, 200));
  for (const i of [0, 1]) expect(agent(i).output()).not.toMatch(/unexpectedly|Z error /);

  // Joining an app that already runs here is refused (chirp-join.test.ts covers joining).
  const joinReplica = await budgie(0, 'chirp', remote.id.slice(0, 12));
  expect(joinReplica.code).toBe(1);
  expect(joinReplica.stderr.trimEnd().split('\n').pop()).toBe(
    "budgie: app hello already runs on this node: add replicas with 'budgie scale hello N'",
  );
});

it('a stranger without a cluster certificate learns nothing of replicas or logs', async () => {
  const caPem = await readFile(join(agent(0).stateDir, 'cluster', 'ca.crt'), 'utf8');
  const answers = JSON.parse(
    await inNetns(host(2).netnsPath, [
      process.execPath,
      '-e',
      STRANGER,
      DIST,
      `${host(0).address}:7447`,
      caPem,
    ]),
  ) as {
    list: { code: number; details: string; replicas?: number };
    logs: { code: number; chunks: number };
  };
  expect(answers.list.code).toBe(16); // UNAUTHENTICATED
  expect(answers.list.details).toContain("needs a client certificate signed by this cluster's CA");
  expect(answers.list.replicas).toBeUndefined();
  expect(answers.logs).toEqual({ code: 16, chunks: 0 });
});

it('a member that does not answer is listed as unreachable, not dropped', async () => {
  await budgie(1, 'stop', 'hello', '--here');
  await agent(1).crash();
  const res = await chirpJson(0);
  expect(res.replicas.map((r) => r.node)).toEqual([nodeName(0)]);
  expect(res.unreachable.map((u) => [u.name, u.address])).toEqual([
    [nodeName(1), `${host(1).address}:7447`],
  ]);
  const table = await budgie(0, 'chirp', '--timeout', '300ms');
  expect(table.stdout).toContain(
    `1 member(s) unreachable: ${nodeName(1)} (${host(1).address}:7447)`,
  );
});

// Asks ReplicaService.ListReplicas and Logs over TLS that trusts the cluster CA but presents no
// client certificate.
const STRANGER = `
const [dist, target, ca] = process.argv.slice(1);
const grpc = require(dist + '/../node_modules/@grpc/grpc-js');
const { ReplicaServiceClient } = require(dist + '/gen/budgie/peer/v1/peer.js');
const creds = grpc.credentials.createSsl(Buffer.from(ca), null, null, { checkServerIdentity: () => undefined });
const client = new ReplicaServiceClient(target, creds);
const out = {};
client.listReplicas({ all: true }, { deadline: Date.now() + 5000 }, (err, res) => {
  out.list = err ? { code: err.code, details: err.details } : { code: 0, details: '', replicas: res.replicas.length };
  let chunks = 0;
  const stream = client.logs({ target: 'hello', follow: false, tail: 0, sinceUnixMs: 0 }, { deadline: Date.now() + 5000 });
  stream.on('data', () => { chunks += 1; });
  stream.on('error', (e) => { out.logs = { code: e.code, chunks }; finish(); });
  stream.on('end', () => { out.logs = out.logs || { code: 0, chunks }; finish(); });
});
let done = false;
function finish() { if (done) return; done = true; process.stdout.write(JSON.stringify(out)); client.close(); }`;
