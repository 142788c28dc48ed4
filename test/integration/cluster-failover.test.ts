import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLinkUp, type LabHost } from '../support/bridge-lab';
import { startClusterLab, type ClusterLab } from '../support/cluster-lab';
import { pause, until } from '../support/http-get';
import { testImages, type TestImages } from '../support/images';
import {
  failedInFlight,
  outcome,
  startLoad,
  type LoadRun,
  type Sample,
} from '../support/load-client';

/**
 * Failover of cross-node balancing under load: an app runs one replica on node A and one on node
 * B (joined with `budgie chirp ID`), a client outside the cluster keeps opening new connections to
 * A's published port, and B is cut off the LAN (its link down), reconnected, then its agent is
 * killed. Once A sees B suspect, no connection through A may fail or wait on B; before that, the
 * proxy's connect failover must hide B's silence from clients. Failures, slow requests and the
 * time to recover are printed for the README.
 */
const APP_PORT = 8080;
/** Requests slower than this count as hurt by the failure (they normally take a few ms). */
const SLOW_MS = 1000;
/** Longer than the proxy's connect timeouts, so a client never gives up on a failover. */
const CLIENT_TIMEOUT_MS = 3000;

let cl: ClusterLab | undefined;
let images: TestImages;
let dir: string | undefined;
let load: LoadRun | undefined;
const lab = (): ClusterLab => {
  if (cl === undefined) throw new Error('the cluster lab did not start');
  return cl;
};
const host = (i: number): LabHost => lab().host(i);
const budgie = (i: number, ...argv: string[]) => lab().budgie(i, ...argv);

beforeAll(async () => {
  [cl, images] = await Promise.all([
    startClusterLab({ label: 'fo', agents: 2, hosts: 3, subnet: '10.187' }),
    testImages(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'budgie-failover-'));
});

afterAll(async () => {
  await load?.stop().catch(() => undefined);
  if (cl !== undefined) await setLinkUp(host(1), true).catch(() => undefined);
  const problems = (await cl?.remove(['greet'])) ?? [];
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

async function stateOfB(): Promise<string | undefined> {
  const r = await budgie(0, 'cluster', 'nodes', '--format', 'json');
  const rows = JSON.parse(r.stdout || '[]') as { name: string; state: string }[];
  return rows.find((row) => row.name === lab().nodeName(1))?.state;
}

/** Polls A's member table until B is in one of `states`; returns when A was first seen so. */
async function whenBIs(states: RegExp, ms: number): Promise<number> {
  await until(`A to see B ${states.source}`, ms, async () => {
    const state = await stateOfB();
    return state !== undefined && states.test(state) ? true : undefined;
  });
  return Date.now();
}

function startClient(): LoadRun {
  load = startLoad({
    netnsPath: host(2).netnsPath,
    host: host(0).address,
    port: APP_PORT,
    path: '/cgi-bin/hostname',
    concurrency: 8,
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
  return load;
}

async function stopClient(run: LoadRun): Promise<Sample[]> {
  const samples = await run.stop();
  load = undefined;
  return samples;
}

/** Waits until the client's samples since `since` hold answers from `replica`. */
async function untilAnswered(run: LoadRun, replica: string, since: number): Promise<number> {
  await until(`answers from ${replica}`, 15_000, () =>
    Promise.resolve(run.samples().some((s) => s.at >= since && s.body === replica) || undefined),
  );
  return Date.now();
}

let onA = '';
let onB = '';

it('an app runs on A, and B joins it with budgie chirp ID', async () => {
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
  const ran = await budgie(0, 'run', file);
  expect(ran.code).toBe(0);
  const ps = JSON.parse((await budgie(0, 'ps', '--format', 'json')).stdout) as { id: string }[];
  onA = ps[0]!.id.slice(0, 12);
  const chirped = await budgie(1, 'chirp', onA);
  expect(chirped.stderr).not.toMatch(/budgie: /);
  expect(chirped.code).toBe(0);
  onB = chirped.stdout.trim().slice(0, 12);

  const run = startClient();
  const since = Date.now();
  await untilAnswered(run, onB, since);
  await untilAnswered(run, onA, since);
});

it('B cut off the LAN: no new connection through A fails, none waits once A sees B suspect', async () => {
  const run = load!;
  await pause(1000);
  // Taken once the link is down: a request started while `ip` ran may already be on B's side.
  await setLinkUp(host(1), false);
  const cut = Date.now();
  const detected = await whenBIs(/suspect|dead/, 10_000);
  // Requests in flight to B at the cut end by the client's timeout: wait for them too.
  await pause(Math.max(4000, cut + CLIENT_TIMEOUT_MS + 500 - Date.now()));
  const end = Date.now();
  const samples = run.samples();
  const before = outcome(samples, cut, detected, SLOW_MS);
  const after = outcome(samples, detected, end, SLOW_MS);
  console.log(
    `B cut off: A saw it suspect after ${detected - cut} ms; in flight and lost ${failedInFlight(samples, cut)}; new connections before that ${JSON.stringify(before)}; after ${JSON.stringify(after)}`,
  );
  // Before A sees it, the proxy gives up on B's silence after the remote connect timeout and
  // tries A's replica while the client waits: slower, never failed.
  expect(before.failed).toBe(0);
  expect(after).toMatchObject({ failed: 0, slow: 0 });
  expect(Object.keys(after.answeredBy)).toEqual([onA]);
});

it('B reconnected: it is alive again and gets traffic through A again', async () => {
  const run = load!;
  const back = Date.now();
  await setLinkUp(host(1), true);
  const alive = await whenBIs(/alive/, 15_000);
  const served = await untilAnswered(run, onB, back);
  await pause(1000);
  const samples = await stopClient(run);
  const seen = outcome(samples, back, Date.now(), SLOW_MS);
  console.log(
    `B reconnected: alive on A after ${alive - back} ms, answering through A after ${served - back} ms; ${JSON.stringify(seen)}`,
  );
  expect(seen.failed).toBe(0);
});

it("B's agent killed: no new connection through A fails, and A serves alone", async () => {
  const run = startClient();
  const since = Date.now();
  await untilAnswered(run, onB, since);
  await untilAnswered(run, onA, since);
  await lab().agent(1).crash();
  const killed = Date.now();
  const detected = await whenBIs(/suspect|dead/, 10_000);
  await pause(3000);
  const end = Date.now();
  const samples = await stopClient(run);
  const seen = outcome(samples, killed, end, SLOW_MS);
  const after = outcome(samples, detected, end, SLOW_MS);
  console.log(
    `B's agent killed: A saw it suspect after ${detected - killed} ms; in flight and lost ${failedInFlight(samples, killed)}; new connections ${JSON.stringify(seen)}`,
  );
  // Its direct endpoints die with it: A is refused at once and tries its own replica. Requests
  // in flight through B's endpoints die with them, as they would with any proxy process.
  expect(seen).toMatchObject({ failed: 0, slow: 0 });
  expect(Object.keys(after.answeredBy)).toEqual([onA]);
});
