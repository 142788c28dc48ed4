import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startAgent, type AgentProcess } from '../support/agent';
import { createBridgeLab, type BridgeLab, type LabHost } from '../support/bridge-lab';
import { advertFlood, hostileMember } from '../support/hostile';
import { cli } from '../support/cli';
import { startContainerd, type PrivateContainerd } from '../support/containerd';
import { inNetns, randomHex } from '../support/netns';

/**
 * Three real agents, each in its own network namespace on one bridge (and a fourth namespace
 * with no agent, for a stranger): init, join by address and by mDNS, heartbeats, a killed agent
 * turning suspect then dead and coming back, and refusals of non-members and wrong tokens.
 * B runs with mDNS off and A as a static peer: the others learn of it only from its heartbeats.
 */
const HEARTBEAT = ['--heartbeat', '300ms', '--suspect-after', '1s', '--dead-after', '3s'];
const DIST = resolve(__dirname, '..', '..', 'dist');

let lab: BridgeLab | undefined;
const containerds: PrivateContainerd[] = [];
const agents = new Map<string, AgentProcess>();
const suffix = randomHex(4);

interface NodeJson {
  nodeId: string;
  name: string;
  address: string;
  state: string;
  self: boolean;
}

beforeAll(async () => {
  lab = await createBridgeLab(4, 'clus');
  containerds.push(...(await Promise.all([0, 1, 2].map(() => startContainerd()))));
});

afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.stop()));
  await Promise.all(containerds.map((c) => c.stop()));
  const problems = (await lab?.remove()) ?? [];
  expect(problems).toEqual([]);
});

const host = (i: number): LabHost => lab!.hosts[i]!;
const name = (i: number) => `node-${'abc'[i]}`;

/** Starts (or, with `dir`, restarts) the agent of host i in its namespace. */
async function start(i: number, dir?: string): Promise<AgentProcess> {
  const ctd = containerds[i]!;
  const staticOnly = i === 1 ? ['--mdns', 'off', '--peer', `${host(0).address}:7447`] : [];
  const agent = await startAgent(
    ctd.socket,
    ctd.namespace,
    [
      ...HEARTBEAT,
      ...staticOnly,
      '--bridge',
      `bc${suffix}${i}`,
      '--subnet',
      `10.194.${10 + i}.0/24`,
    ],
    { netnsPath: host(i).netnsPath, nodeName: name(i), ...(dir !== undefined && { dir }) },
  );
  agents.set(name(i), agent);
  return agent;
}

const run = (agent: AgentProcess, ...argv: string[]) => cli([...argv, '--socket', agent.socket]);

async function nodes(agent: AgentProcess): Promise<NodeJson[]> {
  const r = await run(agent, 'cluster', 'nodes', '--format', 'json');
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as NodeJson[];
}

/** Polls `cluster nodes` until `ok` holds; returns when it did, or fails with the last listing. */
async function until(
  agent: AgentProcess,
  ok: (rows: NodeJson[]) => boolean,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  let rows: NodeJson[] = [];
  while (Date.now() - started < timeoutMs) {
    rows = await nodes(agent);
    if (ok(rows)) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${timeoutMs} ms; last listing: ${JSON.stringify(rows, null, 1)}`);
}

const stateOf = (rows: NodeJson[], node: string) => rows.find((r) => r.name === node)?.state;

it('three agents form a cluster, watch each other, and refuse strangers', async () => {
  const [a, b, c] = await Promise.all([start(0), start(1), start(2)]);

  // Not a member yet: clear one-line errors.
  expect((await run(a, 'cluster', 'nodes')).stderr).toMatch(
    /^budgie: this node is not in a cluster; run 'budgie cluster init'/,
  );

  const init = await run(a, 'cluster', 'init');
  expect(init.code).toBe(0);
  const token = /BGT1\.[a-z2-7.]+/.exec(init.stdout)?.[0];
  expect(token).toBeDefined();
  expect(init.stdout).toContain(`--peer ${host(0).address}:7447`);
  expect((await run(a, 'cluster', 'init')).stderr).toMatch(/^budgie: this node is already in/);

  // A malformed token and a wrong one (right cluster, wrong secret) are refused clearly.
  const malformed = await run(
    b,
    'cluster',
    'join',
    'BGT1.nope',
    '--peer',
    `${host(0).address}:7447`,
  );
  expect(malformed).toMatchObject({ code: 1, stdout: '' });
  expect(malformed.stderr).toMatch(/^budgie: token: expected BGT1\./);
  const parts = token!.split('.');
  const wrong = [...parts.slice(0, 3), 'a'.repeat(parts[3]!.length)].join('.');
  const refused = await run(b, 'cluster', 'join', wrong, '--peer', `${host(0).address}:7447`);
  expect(refused).toEqual({
    code: 1,
    stdout: '',
    stderr:
      'budgie: join: token refused (it is wrong, or it was rotated: ask a member for the current one)\n',
  });

  // B has mDNS off, so it needs an address to join through.
  expect((await run(b, 'cluster', 'join', token!)).stderr).toBe(
    'budgie: join: mDNS is off on this agent (--mdns off); give a member with --peer HOST:PORT\n',
  );

  // B joins through A's address; C gives no address and finds a member by mDNS.
  const joinB = await run(b, 'cluster', 'join', token!, '--peer', `${host(0).address}:7447`);
  expect(joinB).toMatchObject({ code: 0, stderr: '' });
  expect(joinB.stdout).toContain(`through ${host(0).address}:7447`);
  const joinC = await run(c, 'cluster', 'join', token!);
  expect(joinC).toMatchObject({ code: 0, stderr: '' });
  expect(joinC.stdout).toContain(`through ${host(0).address}:7447`);
  expect((await run(c, 'cluster', 'join', token!)).stderr).toMatch(
    /^budgie: this node is already in/,
  );

  // Every node lists all three alive, itself included.
  const allAlive = (rows: NodeJson[]) =>
    rows.length === 3 && rows.every((r) => r.state === 'alive');
  for (const agent of [a, b, c]) {
    const took = await until(agent, allAlive, 10_000);
    console.log(`all three alive on ${agent.socket} after ${took} ms`);
  }
  const table = await run(a, 'cluster', 'nodes');
  expect(table.stdout.split('\n')[0]).toMatch(
    /^NODE ID\s+NAME\s+ADDRESS\s+STATE\s+LAST SEEN\s+CONTAINERS$/,
  );
  expect(table.stdout).toContain(`node-b   ${host(1).address}:7447   alive`);

  // B is killed: suspect on A after about 1 s, dead after about 3 s.
  const bDir = b.dir;
  const killedAt = Date.now();
  await b.crash();
  await until(a, (rows) => stateOf(rows, 'node-b') === 'suspect', 3000);
  const suspectAfter = Date.now() - killedAt;
  await until(a, (rows) => stateOf(rows, 'node-b') === 'dead', 5000);
  const deadAfter = Date.now() - killedAt;
  console.log(`node-b suspect after ${suspectAfter} ms, dead after ${deadAfter} ms`);
  expect(suspectAfter).toBeGreaterThanOrEqual(600);
  expect(deadAfter).toBeGreaterThanOrEqual(2600);
  expect(deadAfter).toBeLessThan(5000);
  expect(stateOf(await nodes(c), 'node-b')).not.toBe('alive');

  // Restarted on the same state dir, B is a member again and alive everywhere.
  const b2 = await start(1, bDir);
  for (const agent of [a, b2, c]) await until(agent, allAlive, 10_000);

  // A stranger (no cluster certificate, from a fourth namespace) is refused the Membership RPC.
  const caPem = await readFile(join(a.stateDir, 'cluster', 'ca.crt'), 'utf8');
  const stranger = JSON.parse(
    await inNetns(host(3).netnsPath, [
      process.execPath,
      '-e',
      STRANGER,
      DIST,
      `${host(0).address}:7447`,
      caPem,
    ]),
  ) as { code: number; details: string };
  expect(stranger.code).toBe(16); // UNAUTHENTICATED: no certificate at all
  expect(stranger.details).toContain("needs a client certificate signed by this cluster's CA");

  // The CA holder may not leave while others remain: every future join would go with its key.
  const holder = await run(a, 'cluster', 'leave');
  expect(holder).toMatchObject({ code: 1, stdout: '' });
  expect(holder.stderr).toBe(
    'budgie: this node holds the cluster CA key: once it leaves, no node can join the cluster any more (2 other member(s) remain); leave with --force to do it anyway\n',
  );

  // Leave: the node tells the members, forgets the cluster and says so afterwards.
  const cDir = join(c.stateDir, 'cluster');
  const [cCert, cKey] = await Promise.all([
    readFile(join(cDir, 'node.crt'), 'utf8'),
    readFile(join(cDir, 'node.key'), 'utf8'),
  ]);
  expect(await run(c, 'cluster', 'leave')).toEqual({
    code: 0,
    stdout: 'Left the cluster (2 members told: they no longer trust this node).\n',
    stderr: '',
  });
  expect((await run(c, 'cluster', 'token')).stderr).toMatch(/not in a cluster/);
  for (const agent of [a, b2]) {
    await until(agent, (rows) => rows.length === 2 && rows.every((r) => r.name !== 'node-c'), 5000);
  }
  // Its certificate is still signed by the CA, but the members refuse it now.
  const left = JSON.parse(
    await inNetns(host(2).netnsPath, [
      process.execPath,
      '-e',
      STRANGER,
      DIST,
      `${host(0).address}:7447`,
      caPem,
      cCert,
      cKey,
    ]),
  ) as { code: number; details: string };
  expect(left.code).toBe(7); // PERMISSION_DENIED
  expect(left.details).toMatch(/left the cluster and its certificate is no longer trusted/);
});

// Calls Membership.Hello over TLS that trusts the cluster CA, presenting the given client
// certificate and key, or none.
it("a member's forged revocation of another is refused and logged, its list of 20,000 made-up members is not followed; the other stays a member", async () => {
  const a = agents.get(name(0))!;
  const clusterDir = join(a.stateDir, 'cluster');
  const [caCert, caKey] = await Promise.all([
    readFile(join(clusterDir, 'ca.crt'), 'utf8'),
    readFile(join(clusterDir, 'ca.key'), 'utf8'),
  ]);
  const victim = (await nodes(a)).find((r) => r.name === name(1))!.nodeId;
  // A member with a certificate of this cluster (C's host is free since C left): it says Hello
  // to A, and answers A's heartbeats with a "leave" of B that it signed itself.
  const hostile = hostileMember(host(2).netnsPath, {
    listen: `${host(2).address}:7451`,
    target: `${host(0).address}:7447`,
    caCertPem: caCert,
    caKeyPem: caKey,
    victim,
    gossip: 20_000,
  });
  try {
    const said = await hostile.said(['"ready"']);
    expect(said).toBe(`${JSON.stringify({ ready: true, error: '' })}\n`);
    const log = join(a.logDir, 'agent.log');
    const refusals = async (): Promise<{ node: string; why: string }[]> =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter((line) => line.includes('refused a revocation a member passed on'))
        .map((line) => JSON.parse(line) as { node: string; why: string });
    const deadline = Date.now() + 10_000;
    while ((await refusals()).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await refusals()).toEqual([
      expect.objectContaining({
        node: victim.slice(0, 12),
        why: 'its certificate is not the leaving node’s',
      }),
    ]);
    // Heartbeats go on (the refusal is not checked or logged again), and B stays a member.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await refusals()).toHaveLength(1);
    expect((await nodes(a)).find((r) => r.nodeId === victim)).toMatchObject({ state: 'alive' });
    const revoked = JSON.parse(await readFile(join(clusterDir, 'revoked.json'), 'utf8')) as {
      nodeId: string;
    }[];
    expect(revoked.map((r) => r.nodeId)).not.toContain(victim);
    expect(revoked).toHaveLength(1); // C's own leave
    // The made-up members were at most candidates: never listed, never logged, and A answers.
    const asked = Date.now();
    const rows = await nodes(a);
    expect(Date.now() - asked).toBeLessThan(2000);
    expect(rows.filter((r) => r.name.startsWith('made-up-'))).toEqual([]);
    expect(await readFile(log, 'utf8')).not.toMatch(/made-up-\d+/);
  } finally {
    hostile.kill();
  }
});

it('the CA holder removes a member for good; another member cannot, and the removed one is refused from then on', async () => {
  const a = agents.get(name(0))!;
  const b = agents.get(name(1))!;
  const victim = (await nodes(a)).find((r) => r.name === name(1))!.nodeId;
  // B does not hold the CA key.
  expect((await run(b, 'cluster', 'remove', name(0))).stderr).toBe(
    "budgie: only the node that holds the cluster CA key (the one that ran 'budgie cluster init') can remove a member\n",
  );
  expect((await run(a, 'cluster', 'remove', 'nosuchnode')).stderr).toBe(
    "budgie: node: no member nosuchnode (see 'budgie cluster nodes', or give its full id)\n",
  );
  const removed = await run(a, 'cluster', 'remove', name(1));
  expect(removed).toEqual({
    code: 0,
    stdout: `Removed ${victim.slice(0, 12)}: every member refuses its certificate once it hears of it (at its next heartbeat).\n`,
    stderr: '',
  });
  await until(a, (rows) => rows.every((r) => r.nodeId !== victim), 5000);
  // B's certificate is refused by A from now on.
  const bDir = join(b.stateDir, 'cluster');
  const [caPem, bCert, bKey] = await Promise.all([
    readFile(join(bDir, 'ca.crt'), 'utf8'),
    readFile(join(bDir, 'node.crt'), 'utf8'),
    readFile(join(bDir, 'node.key'), 'utf8'),
  ]);
  const refused = JSON.parse(
    await inNetns(host(1).netnsPath, [
      process.execPath,
      '-e',
      STRANGER,
      DIST,
      `${host(0).address}:7447`,
      caPem,
      bCert,
      bKey,
    ]),
  ) as { code: number; details: string };
  expect(refused.code).toBe(7); // PERMISSION_DENIED
  expect(refused.details).toMatch(/left the cluster and its certificate is no longer trusted/);
});

it("a LAN neighbour's flood of adverts with the cluster's id adds no member and no warning", async () => {
  const a = agents.get(name(0))!;
  const caPem = await readFile(join(a.stateDir, 'cluster', 'ca.crt'), 'utf8');
  const before = (await nodes(a)).map((r) => r.name).sort();
  const flood = advertFlood(host(3).netnsPath, {
    address: host(3).address,
    caCertPem: caPem,
    count: 100,
  });
  try {
    // The neighbour sees A's advert: multicast gets through both ways, so A hears the flood.
    const said = await flood.said(['ready', 'saw node-a']);
    expect(said).toContain('ready');
    expect(said).toContain('saw node-a');
    // A dials the candidates, which never answer a Hello: none becomes a member, none is logged.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await nodes(a)).map((r) => r.name).sort()).toEqual(before);
    const log = await readFile(join(a.logDir, 'agent.log'), 'utf8');
    expect(log).not.toMatch(/fake-\d+/);
  } finally {
    flood.kill();
  }
});

const STRANGER = `
const [dist, target, ca, cert, key] = process.argv.slice(1);
const grpc = require(dist + '/../node_modules/@grpc/grpc-js');
const { MembershipServiceClient } = require(dist + '/gen/budgie/peer/v1/peer.js');
const creds = grpc.credentials.createSsl(Buffer.from(ca), key ? Buffer.from(key) : null, cert ? Buffer.from(cert) : null, { checkServerIdentity: () => undefined });
const client = new MembershipServiceClient(target, creds);
client.hello({}, { deadline: Date.now() + 5000 }, (err) => {
  process.stdout.write(JSON.stringify(err ? { code: err.code, details: err.details } : { code: 0, details: '' }));
  client.close();
});`;
