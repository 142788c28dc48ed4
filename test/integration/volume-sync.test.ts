import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProcess } from '../support/agent';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import { until } from '../support/http-get';
import { testImages, type TestImages } from '../support/images';
import { memberFetches } from '../support/hostile';
import { httpGetIn } from '../support/netns';

/**
 * Volume sync on real agents: nodes in their own network namespaces with their own containerd,
 * on one isolated bridge. A runs an httpd app whose rw volume every replica writes to; B joins
 * it with `budgie chirp ID` (its copy is the first sync round), and from then on every change on
 * either side reaches the other while the replicas run; later C joins too, and changes go
 * between all three. A fourth namespace holds a stranger.
 */
const APP_PORT = 8080;
const APP = 'notes';
let cl: ClusterLab | undefined;
let images: TestImages;
let dir: string | undefined;
const lab = (): ClusterLab => {
  if (cl === undefined) throw new Error('the cluster lab did not start');
  return cl;
};
const agent = (i: number): AgentProcess => lab().agent(i);
const budgie = (i: number, ...argv: string[]) => lab().budgie(i, ...argv);
/** A's volume (the app's declared source), and B's and C's copies of it (under their state dirs). */
const onA = (...p: string[]): string => join(dir!, 'www', ...p);
const onB = (...p: string[]): string => join(agent(1).stateDir, 'volumes', APP, '0', ...p);
const onC = (...p: string[]): string => join(agent(2).stateDir, 'volumes', APP, '0', ...p);

beforeAll(async () => {
  [cl, images] = await Promise.all([
    startClusterLab({ label: 'vsync', agents: 3, hosts: 4, subnet: '10.186' }),
    testImages(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'budgie-vsync-'));
});

afterAll(async () => {
  const problems = (await cl?.remove([APP])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

const textOf = (path: string): Promise<string | undefined> =>
  readFile(path, 'utf8').catch(() => undefined);
const gone = (path: string): Promise<boolean | undefined> =>
  lstat(path).then(
    () => undefined,
    () => true,
  );
/** Waits until `path` reads `text`; returns how long it took. */
async function arrives(path: string, text: string, ms = 8000): Promise<number> {
  const start = Date.now();
  await until(`${path} to read ${JSON.stringify(text.slice(0, 40))}`, ms, async () =>
    (await textOf(path)) === text ? true : undefined,
  );
  return Date.now() - start;
}

interface VolumeStatus {
  target: string;
  files: number;
  receivedLiteralBytes: number;
  receivedFileBytes: number;
  conflicts: { path: string; nodeName: string }[];
  peers: { nodeName: string; inSync: boolean; error: string }[];
}

async function status(i: number): Promise<VolumeStatus> {
  const r = await budgie(i, 'sync', 'status', APP, '--format', 'json');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const volumes = JSON.parse(r.stdout) as VolumeStatus[];
  expect(volumes.map((v) => v.target)).toEqual(['/www']);
  return volumes[0]!;
}

async function sameFile(a: string, b: string): Promise<true | undefined> {
  const digest = async (p: string) =>
    createHash('sha256')
      .update(await readFile(p))
      .digest('hex');
  try {
    return (await stat(a)).size === (await stat(b)).size && (await digest(a)) === (await digest(b))
      ? true
      : undefined;
  } catch {
    return undefined;
  }
}

it('a joining node gets the volume as a first sync round, then changes flow both ways while replicas write', async () => {
  await mkdir(onA('sub'), { recursive: true });
  await writeFile(onA('health'), 'ok');
  await writeFile(onA('index.html'), 'v1 from A');
  await writeFile(onA('sub', 'a.txt'), 'a');
  await symlink('index.html', onA('alias.html'));
  const file = join(dir!, 'notes.bun');
  await writeFile(
    file,
    `version: "1.0"
name: ${APP}
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${APP_PORT}
volumes:
  - source: ${onA()}
    target: /www
command: ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /www/tick-$(hostname).txt; sleep 1; done & exec httpd -f -p 8080 -h /www"]
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
  const ran = await budgie(0, 'run', file);
  expect(ran.stderr).not.toMatch(/budgie: /);
  await lab().form();
  const chirp = await budgie(1, 'chirp', '--format', 'json');
  const replicaOnA = (
    JSON.parse(chirp.stdout) as { replicas: { id: string; node: string }[] }
  ).replicas.find((r) => r.node === lab().nodeName(0))!;
  const joined = await budgie(1, 'chirp', replicaOnA.id.slice(0, 12));
  expect(joined.stderr).not.toMatch(/budgie: /);
  expect(joined.code).toBe(0);
  expect(joined.stderr).toContain(`copying volume /www from ${lab().nodeName(0)} into ${onB()}`);
  // 3 to 5: the tick file the replica on A rewrites every second may be passed over as stale
  // by this round (A indexes its new version, and the next round brings it).
  expect(joined.stderr).toMatch(/copying volume \/www: [345] files, \d+ bytes/);
  expect(await readFile(onB('index.html'), 'utf8')).toBe('v1 from A');
  expect(await readlink(onB('alias.html'))).toBe('index.html');
  const served = await until('B serving the volume', 8000, async () => {
    const got = await httpGetIn(
      lab().host(2).netnsPath,
      `http://${lab().host(1).address}:${APP_PORT}/index.html`,
    );
    return got.startsWith('200') ? got : undefined;
  });
  expect(served).toBe('200 v1 from A');

  // A → B and B → A, each a file written by the host while both containers write their ticks.
  const latencies: number[] = [];
  await writeFile(onA('index.html'), 'v2 from A');
  latencies.push(await arrives(onB('index.html'), 'v2 from A'));
  await writeFile(onB('from-b.txt'), 'written on B');
  latencies.push(await arrives(onA('from-b.txt'), 'written on B'));

  // mkdir, rename, chmod, symlink, delete and rmdir on A.
  await mkdir(onA('new', 'deeper'), { recursive: true });
  await writeFile(onA('new', 'deeper', 'f.txt'), 'deep');
  latencies.push(await arrives(onB('new', 'deeper', 'f.txt'), 'deep'));
  await rename(onA('sub', 'a.txt'), onA('new', 'moved.txt'));
  await chmod(onA('new', 'moved.txt'), 0o600);
  await symlink('moved.txt', onA('new', 'link'));
  latencies.push(await arrives(onB('new', 'moved.txt'), 'a'));
  await until('the chmod and the link on B', 8000, async () => {
    const mode = (await stat(onB('new', 'moved.txt'))).mode & 0o777;
    const link = await readlink(onB('new', 'link')).catch(() => '');
    return mode === 0o600 && link === 'moved.txt' ? true : undefined;
  });
  // The rename's other half, the old name's tombstone, is a record of its own: applied beside
  // the later ones, it may land just after them.
  await until('the old name gone on B', 8000, () => gone(onB('sub', 'a.txt')));
  await unlink(onA('new', 'deeper', 'f.txt'));
  await rmdir(onA('new', 'deeper'));
  await rmdir(onA('sub'));
  await until('the deletions on B', 8000, async () =>
    (await gone(onB('new', 'deeper'))) === true && (await gone(onB('sub'))) === true
      ? true
      : undefined,
  );
  // B → A: an rmdir of what B did not create.
  await unlink(onB('new', 'link'));
  await until('the link deleted on A', 8000, () => gone(onA('new', 'link')));
  console.log(`propagation latencies (ms): ${latencies.join(', ')}`);
  for (const ms of latencies) expect(ms).toBeLessThan(3000);

  // Each replica's own tick file reaches the other node, and keeps changing there.
  const ticks = await until('both replicas ticking on both nodes', 10_000, async () => {
    const a = (await readdir(onA())).filter((f) => f.startsWith('tick-'));
    const b = (await readdir(onB())).filter((f) => f.startsWith('tick-'));
    return a.length === 2 && b.length === 2 ? a.sort() : undefined;
  });
  const first = await readFile(onB(ticks[0]!), 'utf8');
  await until('a tick moving on B', 8000, async () =>
    (await textOf(onB(ticks[0]!))) !== first ? true : undefined,
  );
  const b = await until('B in sync with A', 8000, async () => {
    const s = await status(1);
    return s.peers.length === 1 && s.peers[0]!.error === '' ? s : undefined;
  });
  expect(b.peers[0]!.nodeName).toBe(lab().nodeName(0));
  expect(b.conflicts).toEqual([]);
  for (const i of [0, 1]) expect(agent(i).output()).not.toMatch(/unexpectedly|Z error /);
});

it('a 100 MiB file with 100 scattered 10 KB edits moves only deltas; an insert at the start moves little', async () => {
  const size = 100 * 1024 * 1024;
  const big = randomBytes(size);
  await writeFile(onA('big.bin'), big);
  await until('big.bin on B', 60_000, () => sameFile(onA('big.bin'), onB('big.bin')));
  const before = (await status(1)).receivedLiteralBytes;
  const fh = await open(onA('big.bin'), 'r+');
  for (let i = 0; i < 100; i++) {
    await fh.write(randomBytes(10_000), 0, 10_000, Math.floor(((i + 0.5) * size) / 100));
  }
  await fh.close();
  await until('the edits on B', 60_000, () => sameFile(onA('big.bin'), onB('big.bin')));
  const edits = (await status(1)).receivedLiteralBytes - before;
  console.log(`100 scattered 10 KB edits in 100 MiB: ${edits} literal bytes on the wire`);
  // rsync sends 1,843,200 here (bench/sync-delta.ts): an edit costs itself and about a block.
  expect(edits).toBeLessThanOrEqual(2_100_000);

  const edited = await readFile(onA('big.bin'));
  const inserted = Buffer.concat([Buffer.from('a line inserted at the start\n'), edited]);
  await writeFile(onA('big.bin'), inserted);
  const mark = (await status(1)).receivedLiteralBytes;
  await until('the insert on B', 60_000, () => sameFile(onA('big.bin'), onB('big.bin')));
  const insert = (await status(1)).receivedLiteralBytes - mark;
  console.log(`an insert at the start of 100 MiB: ${insert} literal bytes on the wire`);
  expect(insert).toBeLessThan(200_000);
  await unlink(onA('big.bin'));
  await until('big.bin deleted on B', 8000, () => gone(onB('big.bin')));
});

it('a node that was down catches up: concurrent edits keep both versions, an edit beats a delete', async () => {
  await writeFile(onA('conflict.txt'), 'base');
  await writeFile(onA('doomed.txt'), 'base');
  await arrives(onB('conflict.txt'), 'base');
  await arrives(onB('doomed.txt'), 'base');
  await lab().restart(1, async () => {
    await writeFile(onA('conflict.txt'), 'edited on A');
    await writeFile(onB('conflict.txt'), 'edited on B, later');
    const later = new Date(Date.now() + 60_000);
    await utimes(onB('conflict.txt'), later, later);
    await unlink(onA('doomed.txt'));
    await writeFile(onB('doomed.txt'), 'edited on B while A deleted it');
    await writeFile(onA('while-down.txt'), 'written while B was down');
  });
  await arrives(onB('while-down.txt'), 'written while B was down', 20_000);
  await arrives(onA('conflict.txt'), 'edited on B, later', 20_000);
  await arrives(onB('conflict.txt'), 'edited on B, later', 20_000);
  for (const side of [onA, onB]) {
    const copies = await until('the conflict copy', 20_000, async () => {
      const found = (await readdir(side())).filter((f) => f.startsWith('conflict.sync-conflict-'));
      return found.length === 1 ? found : undefined;
    });
    expect(copies[0]).toMatch(/^conflict\.sync-conflict-\d{8}-\d{6}-[0-9a-z-]{1,7}\.txt$/);
    expect(await readFile(side(copies[0]!), 'utf8')).toBe('edited on A');
    await arrives(side('doomed.txt'), 'edited on B while A deleted it', 20_000);
  }
  const listed = await until('the conflict listed on B', 10_000, async () => {
    const r = await budgie(1, 'sync', 'conflicts', APP);
    return r.stdout.includes('conflict.sync-conflict-') ? r : undefined;
  });
  expect(listed.code).toBe(0);
  expect(listed.stdout).toContain(lab().nodeName(0));
  // Resolving is deleting the copy: that syncs too.
  const copy = (await readdir(onB())).find((f) => f.startsWith('conflict.sync-conflict-'))!;
  await unlink(onB(copy));
  await until('the copy deleted on A', 10_000, () => gone(onA(copy)));
});

it('kill -9 of the receiving agent mid-transfer leaves no torn file, and the transfer resumes', async () => {
  const big = randomBytes(300 * 1024 * 1024);
  await writeFile(onB('old.bin'), 'the old version');
  await arrives(onA('old.bin'), 'the old version');
  await until('B indexed old.bin', 8000, async () =>
    (await status(0)).files > 0 ? true : undefined,
  );
  await writeFile(onA('old.bin'), big);
  await until('a fetch in flight on B', 30_000, async () =>
    (await readdir(onB())).some((f) => f.startsWith('.budgie-sync-')) ? true : undefined,
  );
  await lab().restart(1, async () => {
    // Killed mid-transfer: the file is the old version, whole; the new one is only in a temp file.
    expect(await readFile(onB('old.bin'), 'utf8')).toBe('the old version');
  });
  await until('the transfer resumed and done', 90_000, () =>
    sameFile(onA('old.bin'), onB('old.bin')),
  );
  await until('the temp file swept', 8000, async () =>
    (await readdir(onB())).some((f) => f.startsWith('.budgie-sync-')) ? undefined : true,
  );
});

it('a third node joins; changes on any of the three reach the other two, a file written all the time included', async () => {
  // The 300 MiB file of the test before is not C's to copy.
  await rm(onA('old.bin'), { force: true });
  await until('old.bin deleted on B', 20_000, () => gone(onB('old.bin')));
  const replicaOnA = (
    JSON.parse((await budgie(2, 'chirp', '--format', 'json')).stdout) as {
      replicas: { id: string; node: string }[];
    }
  ).replicas.find((r) => r.node === lab().nodeName(0))!;
  const joined = await budgie(2, 'chirp', replicaOnA.id.slice(0, 12));
  expect(joined.stderr).not.toMatch(/budgie: /);
  expect(joined.code).toBe(0);
  expect(await readFile(onC('index.html'), 'utf8')).toBe(await readFile(onA('index.html'), 'utf8'));
  // Each replica writes its tick file (named by its hostname, the short replica ID) every
  // second: every node has all three running replicas' files (and maybe those of replicas
  // that the agent restarts of the tests before replaced).
  const running = (
    JSON.parse((await budgie(2, 'chirp', '--format', 'json')).stdout) as {
      replicas: { id: string; state: string }[];
    }
  ).replicas.filter((r) => r.state === 'running');
  expect(running).toHaveLength(3);
  const wanted = running.map((r) => `tick-${r.id.slice(0, 12)}.txt`);
  for (const side of [onA, onB, onC]) {
    await until(`the three replicas' tick files in ${side()}`, 20_000, async () => {
      const names = await readdir(side());
      return wanted.every((w) => names.includes(w)) ? true : undefined;
    });
  }
  await writeFile(onC('from-c.txt'), 'written on C');
  await arrives(onA('from-c.txt'), 'written on C');
  await arrives(onB('from-c.txt'), 'written on C');
  await mkdir(onB('made-on-b'));
  await writeFile(onB('made-on-b', 'x.txt'), 'x');
  await arrives(onC('made-on-b', 'x.txt'), 'x');
  await rename(onA('from-c.txt'), onA('renamed-on-a.txt'));
  await arrives(onC('renamed-on-a.txt'), 'written on C');
  await until('the old name gone on C', 8000, () => gone(onC('from-c.txt')));
  await rm(onC('made-on-b'), { recursive: true });
  await until('the directory gone on A', 8000, () => gone(onA('made-on-b')));
  await until('the directory gone on B', 8000, () => gone(onB('made-on-b')));
  for (const i of [0, 1, 2]) {
    // Printed whole if it never gets there: which member, and its last error.
    let peers: VolumeStatus['peers'] = [];
    const deadline = Date.now() + 30_000;
    do {
      peers = (await status(i)).peers;
      if (peers.length === 2 && peers.every((p) => p.inSync && p.error === '')) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    expect({ node: i, peers }).toEqual({
      node: i,
      peers: [
        expect.objectContaining({ inSync: true, error: '' }),
        expect.objectContaining({ inSync: true, error: '' }),
      ],
    });
  }
});

it('a stranger without a cluster certificate gets UNAUTHENTICATED and no volume data', async () => {
  const caPem = await readFile(join(agent(0).stateDir, 'cluster', 'ca.crt'), 'utf8');
  const { inNetns } = await import('../support/netns');
  const answer = JSON.parse(
    await inNetns(lab().host(3).netnsPath, [
      process.execPath,
      '-e',
      STRANGER,
      join(__dirname, '..', '..', 'dist'),
      `${lab().host(0).address}:7447`,
      caPem,
    ]),
  ) as { code: number; records: number };
  expect(answer).toEqual({ code: 16, records: 0 }); // UNAUTHENTICATED
});

it("a member's forged paths are refused and logged, and a link out of the volume is never followed", async () => {
  // A link a container made in A's volume, out of it: never indexed, never read through.
  await symlink('/etc', onA('escape'));
  const read = (name: string): Promise<string> =>
    readFile(join(agent(2).stateDir, 'cluster', name), 'utf8');
  const [caPem, keyPem, certPem] = await Promise.all([
    read('ca.crt'),
    read('node.key'),
    read('node.crt'),
  ]);
  const paths = ['../../../etc/passwd', '/etc/passwd', 'escape/passwd', 'escape'];
  // C is a member that runs the app: what it asks with its own certificate is what a
  // compromised member could ask.
  const answers = await memberFetches(lab().host(2).netnsPath, {
    target: `${lab().host(0).address}:7447`,
    caCertPem: caPem,
    keyPem,
    certPem,
    app: APP,
    volume: '/www',
    paths,
  });
  const refusedWhole = { code: 3, bytes: 0 }; // INVALID_ARGUMENT
  const goneWhole = { code: 0, bytes: 0, status: 2 }; // FETCH_FILE_STATUS_GONE
  expect(answers).toEqual({
    fetches: [
      { path: '../../../etc/passwd', code: 3, literalBytes: 0, gone: false, whole: refusedWhole },
      { path: '/etc/passwd', code: 3, literalBytes: 0, gone: false, whole: refusedWhole },
      { path: 'escape/passwd', code: 0, literalBytes: 0, gone: true, whole: goneWhole },
      { path: 'escape', code: 0, literalBytes: 0, gone: true, whole: goneWhole },
    ],
    tooMany: 3,
  });
  const log = await readFile(join(agent(0).logDir, 'agent.log'), 'utf8');
  const refused = log
    .split('\n')
    .filter((line) => line.includes('refused a path from a member'))
    .map((line) => JSON.parse(line) as { level: string; path: string });
  // Each forged path once per call: Fetch, then FetchFiles.
  expect(refused).toEqual([
    expect.objectContaining({ level: 'warn', path: '../../../etc/passwd' }),
    expect.objectContaining({ level: 'warn', path: '../../../etc/passwd' }),
    expect.objectContaining({ level: 'warn', path: '/etc/passwd' }),
    expect.objectContaining({ level: 'warn', path: '/etc/passwd' }),
  ]);
  await unlink(onA('escape'));
});

// Asks SyncService.Changes over TLS that trusts the cluster CA but presents no client certificate.
const STRANGER = `
const [dist, target, ca] = process.argv.slice(1);
const grpc = require(dist + '/../node_modules/@grpc/grpc-js');
const { SyncServiceClient } = require(dist + '/gen/budgie/peer/v1/sync.js');
const creds = grpc.credentials.createSsl(Buffer.from(ca), null, null, { checkServerIdentity: () => undefined });
const client = new SyncServiceClient(target, creds);
client.changes({ app: '${APP}', target: '/www', since: 0, limit: 100, waitMs: 0, epoch: '' }, { deadline: Date.now() + 5000 }, (err, res) => {
  process.stdout.write(JSON.stringify({ code: err ? err.code : 0, records: res ? res.records.length : 0 }));
  client.close();
});`;

it('a member frozen mid-transfer (SIGSTOP) ends the round within seconds, the node keeps answering, and the file arrives once it thaws', async () => {
  const big = randomBytes(300 * 1024 * 1024);
  await writeFile(onA('frozen.bin'), big);
  const temps = async (): Promise<string[]> =>
    (await readdir(onB())).filter((f) => f.startsWith('.budgie-sync-'));
  await until('a fetch from A in flight on B', 30_000, async () =>
    (await temps()).length > 0 ? true : undefined,
  );
  const pid = agent(0).process.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    const frozenAt = Date.now();
    // A stops answering mid-stream: B's round ends (A goes dead, its puller is stopped; a
    // member that stays alive but sends nothing is cut off after PEER_STALL_MS), and the half
    // file is dropped, never renamed into place.
    await until('the half-fetched temp file dropped on B', 45_000, async () =>
      (await temps()).length === 0 ? true : undefined,
    );
    expect(Date.now() - frozenAt).toBeLessThan(45_000);
    // Never a torn file: not there, or whole (had C got it all before A froze, B may take it
    // from C).
    if ((await stat(onB('frozen.bin')).catch(() => undefined)) !== undefined) {
      expect(await sameFile(onA('frozen.bin'), onB('frozen.bin'))).toBe(true);
    }
    // B itself keeps answering while A is frozen.
    const asked = Date.now();
    expect((await budgie(1, 'ps')).code).toBe(0);
    await status(1);
    expect(Date.now() - asked).toBeLessThan(5000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await until('the file on B once A thawed', 120_000, () =>
    sameFile(onA('frozen.bin'), onB('frozen.bin')),
  );
  await rm(onA('frozen.bin'));
  await until('the deletion on B', 15_000, () => gone(onB('frozen.bin')));
});
