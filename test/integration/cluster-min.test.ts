import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLinkUp } from '../support/bridge-lab';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import { pause, until } from '../support/http-get';
import { testImages, type TestImages } from '../support/images';

/**
 * replicas.min kept cluster-wide, with three real agents in network namespaces on one bridge.
 * A runs `keep` (min 3, so 3 replicas there); B and C join the cluster (C through B, which
 * forwards the join to A, the CA holder) and the app, with one replica each. A is cut off
 * the LAN: exactly one of B and C (the lower node id) starts the one replica short of min, and
 * nobody starts more. A comes back: the stand-in goes, the cluster is at 3 + 1 + 1 again. Then
 * `budgie stop` from B reaches one replica on A, and the whole app on every member.
 */
let cl: ClusterLab | undefined;
let images: TestImages;
let dir: string | undefined;
const lab = (): ClusterLab => {
  if (cl === undefined) throw new Error('the cluster lab did not start');
  return cl;
};
const budgie = (i: number, ...argv: string[]) => lab().budgie(i, ...argv);

interface PsRow {
  id: string;
  app: string;
  state: string;
}

beforeAll(async () => {
  [cl, images] = await Promise.all([
    startClusterLab({ label: 'cmin', agents: 3, hosts: 3, subnet: '10.186' }),
    testImages(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'budgie-cluster-min-'));
});

afterAll(async () => {
  if (cl !== undefined) await setLinkUp(cl.host(0), true).catch(() => undefined);
  const problems = (await cl?.remove(['keep'])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

/** Node i's live (created or running) replicas of keep. */
async function live(i: number): Promise<PsRow[]> {
  const r = await budgie(i, 'ps', '--format', 'json');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as PsRow[]).filter(
    (x) => x.app === 'keep' && (x.state === 'running' || x.state === 'created'),
  );
}

async function nodeIds(): Promise<string[]> {
  const r = await budgie(0, 'cluster', 'nodes', '--format', 'json');
  const rows = JSON.parse(r.stdout) as { nodeId: string; name: string }[];
  return [0, 1, 2].map((i) => rows.find((row) => row.name === lab().nodeName(i))?.nodeId ?? '');
}

async function counts(): Promise<number[]> {
  return [(await live(0)).length, (await live(1)).length, (await live(2)).length];
}

async function settleAt(expected: number[], what: string, ms = 20_000): Promise<void> {
  await until(what, ms, async () => {
    const now = await counts();
    return now.join() === expected.join() ? now : undefined;
  });
}

it('B and C join an app that A runs with min 3', async () => {
  const file = join(dir!, 'keep.bun');
  await writeFile(
    file,
    `version: "1.0"
name: keep
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: 8080
command: ["sh", "-c", "echo started on $(hostname); exec httpd -f -p 8080 -h /www"]
replicas:
  min: 3
  max: 5
stop_timeout: 1s
`,
  );
  expect(await budgie(0, 'run', file)).toMatchObject({ code: 0 });
  const init = await budgie(0, 'cluster', 'init');
  const token = /BGT1\.[a-z2-7.]+/.exec(init.stdout)![0];
  // B joins through A (the CA holder), C through B, which forwards the join to A.
  for (const i of [1, 2]) {
    const via = `${lab().host(i - 1).address}:7447`;
    const joined = await budgie(i, 'cluster', 'join', token, '--peer', via);
    expect(joined).toMatchObject({ code: 0, stderr: '' });
    expect(joined.stdout).toContain(`through ${via}`);
    await lab().allAlive(i, i + 1);
  }
  for (const i of [0, 1, 2]) await lab().allAlive(i, 3);
  for (const i of [1, 2]) {
    const r = await budgie(i, 'chirp', 'keep');
    expect(r.stderr).not.toMatch(/budgie: /);
    expect(r.code).toBe(0);
  }
  expect(await counts()).toEqual([3, 1, 1]);
  // Nobody adds anything while everyone is there.
  await pause(3000);
  expect(await counts()).toEqual([3, 1, 1]);
  // chirp on a joined node counts against the cluster's min, not the node's own floor of 1.
  const chirp = await budgie(2, 'chirp', '--format', 'json');
  const listed = (JSON.parse(chirp.stdout) as { replicas: { replicas: unknown }[] }).replicas;
  expect(listed.map((r) => r.replicas)).toEqual(Array(5).fill({ running: 5, min: 3, max: 5 }));
  // An app's logs on any member are all its replicas', wherever they run.
  const logs = await budgie(1, 'logs', 'keep');
  expect(logs).toMatchObject({ code: 0, stderr: '' });
  const started = logs.stdout.trim().split('\n');
  expect(started).toHaveLength(5);
  for (const line of started) expect(line).toMatch(/^([0-9a-f]{12}) \| started on \1$/);
  // `cluster nodes` on any member counts every member's containers.
  const nodes = await budgie(1, 'cluster', 'nodes', '--format', 'json');
  const rows = JSON.parse(nodes.stdout) as { name: string; containers: number | null }[];
  expect([0, 1, 2].map((i) => rows.find((r) => r.name === lab().nodeName(i))?.containers)).toEqual([
    3, 1, 1,
  ]);
});

it('A cut off: exactly one survivor, the lower node id, starts the replica short of min', async () => {
  const [, idB, idC] = await nodeIds();
  const starter = idB! < idC! ? 1 : 2;
  await setLinkUp(lab().host(0), false);
  const seen: number[][] = [];
  const expected = starter === 1 ? [3, 2, 1] : [3, 1, 2];
  await until('one stand-in on the starter', 30_000, async () => {
    const now = await counts();
    seen.push(now);
    return now.join() === expected.join() ? now : undefined;
  });
  // Never a double start: B and C together never ran more than min.
  expect(Math.max(...seen.map((c) => c[1]! + c[2]!))).toBeLessThanOrEqual(3);
  // A, alone, keeps its 3 and starts nothing; the stand-in stays while A is away.
  await pause(3000);
  expect(await counts()).toEqual(expected);
  expect(lab().agent(starter).output()).toMatch(/starting stand-in replicas/);
});

it('A back: the stand-in is given back, down to the desired 3 + 1 + 1', async () => {
  await setLinkUp(lab().host(0), true);
  for (const i of [0, 1, 2]) await lab().allAlive(i, 3);
  await settleAt([3, 1, 1], 'the stand-in to go');
  await pause(3000);
  expect(await counts()).toEqual([3, 1, 1]);
  // Running the .bun itself on C would add min (3) more: past max, refused in one line.
  const again = await budgie(2, 'run', join(dir!, 'keep.bun'));
  expect(again).toMatchObject({ code: 1, stdout: '' });
  expect(again.stderr).toContain(
    'budgie: replicas.max: members already run 4 of keep; 3 here would make 7, past its replicas.max of 5 (join with one replica: budgie chirp keep)',
  );
  // max is the cluster's: B's share may not take the cluster past it.
  const scale = await budgie(1, 'scale', 'keep', '2');
  expect(scale).toMatchObject({ code: 1, stdout: '' });
  expect(scale.stderr).toBe(
    'budgie: replicas: expected at most 1 on this node: members run 4 more of keep and its replicas.max is 5\n',
  );
});

it('stop from B reaches a replica on A by ID, and the whole app on every member', async () => {
  const onA = (await live(0))[0]!;
  const one = await budgie(1, 'stop', onA.id.slice(0, 12));
  expect(one).toMatchObject({ code: 0, stdout: `${onA.id.slice(0, 12)}\n`, stderr: '' });
  // A's own min is 3: it replaces the replica.
  await until('A to replace it', 20_000, async () => {
    const ids = (await live(0)).map((r) => r.id);
    return ids.length === 3 && !ids.includes(onA.id) ? ids : undefined;
  });

  const all = await budgie(1, 'stop', 'keep');
  expect(all).toMatchObject({ code: 0, stderr: '' });
  expect(all.stdout.trim().split('\n')).toHaveLength(5);
  expect(await counts()).toEqual([0, 0, 0]);
  // Gone for good: the keepers have nothing left to keep, nothing comes back.
  await pause(3000);
  expect(await counts()).toEqual([0, 0, 0]);
  const chirp = await budgie(0, 'chirp', '--format', 'json');
  expect(JSON.parse(chirp.stdout)).toMatchObject({ replicas: [] });
});

it('A and B restarted with no peers find each other again through C, which remembers both', async () => {
  // mDNS is off and no --peer is given: after a restart a node knows nobody. C still heartbeats A
  // and B; each learns of C from its Hello, and of the other only from C's answers (gossip).
  await Promise.all([lab().restart(0), lab().restart(1)]);
  for (const i of [0, 1, 2]) await lab().allAlive(i, 3);
});
