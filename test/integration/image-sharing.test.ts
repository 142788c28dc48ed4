import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeOciLayoutDir } from '../../src/tools/imagebuild/archives';
import { busyboxHttpdImage } from '../../src/tools/imagebuild/busybox';
import { buildImage, type ImageSpec } from '../../src/tools/imagebuild/image';
import { TreeBuilder } from '../../src/tools/imagebuild/tree-builder';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import { pushImage, startRegistry, type LocalRegistry } from '../support/registry';

/**
 * The LAN as one image cache, with three real agents in network namespaces on one bridge, each
 * with its own containerd. The registry runs on the loopback of A's namespace, so A alone reaches
 * it: B and C find the image's record and blobs on their members instead, C from two at once.
 */
const run = promisify(execFile);
const REPO = 'test/greet';

let cl: ClusterLab | undefined;
let registry: LocalRegistry | undefined;
let dir: string | undefined;
const lab = (): ClusterLab => {
  if (cl === undefined) throw new Error('the cluster lab did not start');
  return cl;
};
const budgie = (i: number, ...argv: string[]) => lab().budgie(i, ...argv);
const name = (i: number) => lab().nodeName(i);
let reference = '';
let reference2 = '';
let reference3 = '';
let bunFile = '';

/** The busybox httpd image with two more layers of incompressible bytes, so it has three to spread. */
function threeLayers(base: ImageSpec): ImageSpec {
  const extra = (path: string, size: number) =>
    new TreeBuilder().file(path, randomBytes(size)).build();
  return {
    ...base,
    layers: [...base.layers, extra('/data/big', 1_500_000), extra('/data/small', 500_000)],
  };
}

beforeAll(async () => {
  cl = await startClusterLab({ label: 'share', agents: 3, hosts: 3, subnet: '10.191' });
  dir = await mkdtemp(join(tmpdir(), 'budgie-image-sharing-'));
  const netnsPath = lab().host(0).netnsPath;
  registry = await startRegistry({ netnsPath });
  const greet = threeLayers(await busyboxHttpdImage());
  // greet2: greet's three layers and one of its own, which only the registry has.
  const greet2 = {
    ...greet,
    layers: [...greet.layers, new TreeBuilder().file('/data/more', randomBytes(100_000)).build()],
  };
  // greet3: greet's first layer and a big one, long enough to read that a member can die mid-blob.
  const greet3 = {
    ...greet,
    layers: [greet.layers[0]!, new TreeBuilder().file('/data/big', randomBytes(48 << 20)).build()],
  };
  await writeOciLayoutDir(join(dir, 'greet'), buildImage(greet));
  await writeOciLayoutDir(join(dir, 'greet2'), buildImage(greet2));
  await pushImage(join(dir, 'greet'), registry.host, `${REPO}:1`, { netnsPath });
  await pushImage(join(dir, 'greet2'), registry.host, `${REPO}:2`, { netnsPath });
  await writeOciLayoutDir(join(dir, 'greet3'), buildImage(greet3));
  await pushImage(join(dir, 'greet3'), registry.host, `${REPO}:3`, { netnsPath });
  reference = `${registry.host}/${REPO}:1`;
  reference2 = `${registry.host}/${REPO}:2`;
  reference3 = `${registry.host}/${REPO}:3`;
  bunFile = join(dir, 'greet.bun');
  await writeFile(
    bunFile,
    `version: "1.0"
name: greet
image:
  docker_image: ${reference}
ports:
  - container_port: 8080
    host_port: 8080
healthcheck:
  path: /health
  interval: 500ms
  timeout: 400ms
  retries: 2
# One replica on each of the three nodes: max is the cluster's.
replicas:
  min: 1
  max: 3
stop_timeout: 1s
`,
  );

  await lab().form();
});

afterAll(async () => {
  await registry?.stop();
  const problems = (await cl?.remove(['greet'])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

async function contentDigests(i: number): Promise<string[]> {
  const c = lab().containerd(i);
  const { stdout } = await run('ctr', [
    '--address',
    c.socket,
    '-n',
    c.namespace,
    'content',
    'ls',
    '-q',
  ]);
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

/** Every blob node i holds hashes to its digest. */
async function expectVerified(i: number): Promise<void> {
  const c = lab().containerd(i);
  for (const digest of await contentDigests(i)) {
    const { stdout } = await run(
      'ctr',
      ['--address', c.socket, '-n', c.namespace, 'content', 'get', digest],
      { encoding: 'buffer', maxBuffer: 64 << 20 },
    );
    expect(`sha256:${createHash('sha256').update(stdout).digest('hex')}`).toBe(digest);
  }
}

async function runs(i: number): Promise<string> {
  const r = await budgie(i, 'run', bunFile);
  console.log(`budgie run on ${name(i)}:\n${r.stderr}`);
  expect(r.stderr).not.toMatch(/budgie: /);
  expect(r.code).toBe(0);
  const ps = JSON.parse((await budgie(i, 'ps', '--format', 'json')).stdout) as {
    app: string;
    state: string;
    health: string;
  }[];
  expect(ps.map((x) => [x.app, x.state, x.health])).toEqual([['greet', 'running', 'healthy']]);
  return r.stderr;
}

it('A pulls from its registry: no member holds anything yet', async () => {
  const stderr = await runs(0);
  expect(stderr).toContain(`${reference}: 3 layers for`);
  expect(stderr).not.toContain('from members');
});

it("B cannot reach the registry: A's record resolves the image and A's blobs fill it", async () => {
  expect(await contentDigests(1)).toEqual([]);
  const stderr = await runs(1);
  expect(stderr).toContain(`${reference}: registry unreachable, resolved by member ${name(0)}`);
  expect(stderr).toContain(
    `${reference}: 3 layers from members (${name(0)} 3), 0 from the registry`,
  );
  expect(await contentDigests(1)).toEqual(await contentDigests(0));
  await expectVerified(1);
});

it('C gets the layers from A and B at once', async () => {
  const stderr = await runs(2);
  const spread = /3 layers from members \((\S+) (\d), (\S+) (\d)\), 0 from the registry/.exec(
    stderr,
  );
  expect(spread).not.toBeNull();
  expect([spread![1], spread![3]].sort()).toEqual([name(0), name(1)].sort());
  expect([spread![2], spread![4]].sort()).toEqual(['1', '2']);
  expect(await contentDigests(2)).toEqual(await contentDigests(0));
  await expectVerified(2);
  // Each layer came from the member it was assigned to: none had to be read elsewhere.
  expect(lab().agent(2).output()).not.toContain('reading it elsewhere');
});

it('with the registry reachable, only the layer no member holds comes from it', async () => {
  // A forgets greet, so its registry is the only source of the one layer greet2 adds.
  expect((await budgie(0, 'rm', '--force', 'greet')).code).toBe(0);
  expect((await budgie(0, 'image', 'rm', reference)).code).toBe(0);
  expect(await contentDigests(0)).toEqual([]);
  const r = await budgie(0, 'image', 'pull', reference2);
  console.log(`budgie image pull on ${name(0)}:\n${r.stderr}`);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(
    new RegExp(
      `${reference2.replace(/[.]/g, '\\.')}: 3 layers from members \\(\\S+ \\d, \\S+ \\d\\), 1 from the registry`,
    ),
  );
  await expectVerified(0);
  for (const i of [0, 1, 2]) expect(lab().agent(i).output()).not.toMatch(/unexpectedly/);
});

it('a member that dies mid-blob is replaced by the other holder, from the byte it reached', async () => {
  // A from its registry, B from A: both hold greet3's big layer; C holds only the small one.
  for (const i of [0, 1]) expect((await budgie(i, 'image', 'pull', reference3)).code).toBe(0);
  let crashed: string | undefined;
  const phases: string[] = [];
  for await (const res of lab().agent(2).client.pullImage(reference3)) {
    const event = res.event;
    if (event?.$case === 'phase') phases.push(event.value);
    if (event?.$case !== 'layer' || crashed !== undefined) continue;
    if (event.value.done === 0 || event.value.done === event.value.size) continue;
    // The layer's first megabytes are in: the member it was assigned to dies.
    const assigned = /1 layer from members \((\S+) 1\)/.exec(phases.join('\n'))?.[1];
    const index = [0, 1].find((i) => name(i) === assigned);
    expect(index).toBeDefined();
    crashed = assigned;
    await lab().agent(index!).crash();
  }
  expect(crashed).toBeDefined();
  const warning = lab()
    .agent(2)
    .output()
    .split('\n')
    .find((l) => l.includes('reading it elsewhere'));
  expect(warning).toContain(crashed);
  // Resumed where the dead member stopped, not from the start.
  expect(Number(/"offset":(\d+)/.exec(warning ?? '')?.[1])).toBeGreaterThan(0);
  await expectVerified(2);
});
