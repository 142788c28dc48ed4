import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProcess } from '../support/agent';
import type { LabHost } from '../support/bridge-lab';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import { until } from '../support/http-get';
import { testImages, type TestImages } from '../support/images';
import { inNetns } from '../support/netns';

/**
 * Cross-node balancing with two real agents, each in its own network namespace with its own
 * containerd, on one isolated bridge: the same app runs one replica on each node, and node A's
 * published port reaches both; when B's replica stops, A's port keeps answering from A's alone.
 * A third namespace is a client outside the cluster.
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

beforeAll(async () => {
  [cl, images] = await Promise.all([
    startClusterLab({ label: 'bal', agents: 2, hosts: 3, subnet: '10.188' }),
    testImages(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'budgie-balancing-'));
});

afterAll(async () => {
  const problems = (await cl?.remove(['greet'])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

async function replicaOf(i: number): Promise<string> {
  const rows = await until(`a healthy replica on node ${i}`, 20_000, async () => {
    const ps = await budgie(i, 'ps', '--format', 'json');
    const got = JSON.parse(ps.stdout || '[]') as { id: string; health: string }[];
    return got.length === 1 && got[0]!.health === 'healthy' ? got : undefined;
  });
  return rows[0]!.id.slice(0, 12);
}

/** `n` GETs of /cgi-bin/hostname from the client namespace, each on a new connection. */
async function hostnames(address: string, port: number, n: number): Promise<string[]> {
  const out = await inNetns(host(2).netnsPath, [
    process.execPath,
    '-e',
    GETS,
    address,
    `${port}`,
    `${n}`,
  ]);
  return JSON.parse(out) as string[];
}

const GETS = `
const [address, port, n] = process.argv.slice(1);
const http = require('http');
const one = () => new Promise((resolve) => {
  http.get({ host: address, port: Number(port), path: '/cgi-bin/hostname', agent: false }, (res) => {
    let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve(res.statusCode === 200 ? b.trim() : 'HTTP ' + res.statusCode));
  }).on('error', (e) => resolve('error ' + e.message));
});
(async () => { const got = []; for (let i = 0; i < Number(n); i++) got.push(await one()); process.stdout.write(JSON.stringify(got)); })();`;

let onA = '';
let onB = '';

it("A's published port balances over A's and B's replicas", async () => {
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
  await lab().form();
  for (const i of [0, 1]) {
    const ran = await budgie(i, 'run', file);
    expect(ran.stderr).not.toMatch(/budgie: /);
    expect(ran.code).toBe(0);
  }
  onA = await replicaOf(0);
  onB = await replicaOf(1);

  // B's direct endpoint shows up in A's proxy within a balancing round (2 s).
  const seen = await until("both replicas behind A's port", 10_000, async () => {
    const got = await hostnames(host(0).address, APP_PORT, 6);
    return new Set(got).size === 2 ? got : undefined;
  });
  expect([...new Set(seen)].sort()).toEqual([onA, onB].sort());
  const more = await hostnames(host(0).address, APP_PORT, 10);
  expect(more.filter((h) => h === onA).length).toBeGreaterThanOrEqual(3);
  expect(more.filter((h) => h === onB).length).toBeGreaterThanOrEqual(3);
  for (const i of [0, 1]) expect(agent(i).output()).not.toMatch(/unexpectedly|Z error /);
});

it("B's direct endpoint reaches B's replica only, from outside the cluster too", async () => {
  // The listeners B has on its advertise address besides the peer API: its direct endpoints.
  const ss = await inNetns(host(1).netnsPath, ['ss', '-ltnH']);
  const ports = [...ss.matchAll(/\s(\d+\.\d+\.\d+\.\d+):(\d+)\s/g)]
    .filter((m) => m[1] === host(1).address && m[2] !== '7447')
    .map((m) => Number(m[2]));
  expect(ports).toHaveLength(1);
  // Equivalent to a published port: a non-member gets B's replica, and never anything else.
  expect(await hostnames(host(1).address, ports[0]!, 6)).toEqual(Array(6).fill(onB));
});

it("when B's replica stops, A's port keeps answering, then from A's replica only", async () => {
  const before = Date.now();
  const stopping = budgie(1, 'stop', 'greet', '--here');
  const during: string[] = [];
  // Requests while B stops and the balancer catches up: none may fail.
  while (Date.now() - before < 4000) {
    during.push(...(await hostnames(host(0).address, APP_PORT, 5)));
  }
  expect(await stopping).toMatchObject({ code: 0 });
  expect(during.filter((h) => h !== onA && h !== onB)).toEqual([]);
  const after = await hostnames(host(0).address, APP_PORT, 10);
  expect(after).toEqual(Array(10).fill(onA));
});

it("when B's agent dies, A's port keeps answering, then from A's replica only", async () => {
  const file = join(dir!, 'greet.bun');
  const ran = await budgie(1, 'run', file);
  expect(ran.code).toBe(0);
  onB = await replicaOf(1);
  await until("B's new replica behind A's port", 10_000, async () => {
    const got = await hostnames(host(0).address, APP_PORT, 4);
    return got.includes(onB) ? got : undefined;
  });
  // B's replica keeps running (containerd owns it), but its direct endpoints go with the agent:
  // A's proxy is refused there and tries A's replica while the client waits.
  await agent(1).crash();
  const before = Date.now();
  const during: string[] = [];
  while (Date.now() - before < 5000) {
    during.push(...(await hostnames(host(0).address, APP_PORT, 5)));
  }
  expect(during.filter((h) => h !== onA)).toEqual([]);
  const rows = JSON.parse((await budgie(0, 'cluster', 'nodes', '--format', 'json')).stdout) as {
    name: string;
    state: string;
  }[];
  expect(rows.find((r) => r.name === nodeName(1))?.state).toMatch(/suspect|dead/);
});
