import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJson, Index, isIndexType } from '../../src/oci/image-codecs';

const run = promisify(execFile);

export interface LocalRegistry {
  /** "127.0.0.1:PORT", as image references and skopeo want it. */
  host: string;
  /** What the registry wrote to stderr so far, for failure messages. */
  output(): string;
  /** Stops the registry and deletes its storage. */
  stop(): Promise<void>;
}

/** In a network namespace the test made, whose loopback nobody else uses: always this port. */
const NETNS_REGISTRY_PORT = 5000;

/**
 * Runs Debian's docker-registry (distribution 2.8) on a free loopback port, storing in a fresh temp
 * dir, with deletes enabled; resolves once GET /v2/ answers. Plain HTTP: clients must allow it.
 * With `netnsPath`, it runs on the loopback of that network namespace (/var/run/netns/NAME): only
 * processes in the namespace reach it, as a registry only one node of a cluster lab can reach.
 */
export async function startRegistry(options: { netnsPath?: string } = {}): Promise<LocalRegistry> {
  const { netnsPath } = options;
  // The free port is only free until someone else takes it: try again with another one.
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'budgie-registry-'));
    const port = netnsPath === undefined ? await freePort() : NETNS_REGISTRY_PORT;
    const host = `127.0.0.1:${port}`;
    const config = join(dir, 'config.yml');
    await writeFile(config, registryConfig(join(dir, 'data'), host));
    // nsenter execs the registry in place: the child's pid is the registry's own.
    const child = spawn(...inNetns(netnsPath, ['docker-registry', 'serve', config]), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-16 * 1024);
    });
    const stop = async (): Promise<void> => {
      await terminate(child);
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await waitForApi(host, child, () => stderr, netnsPath);
      return { host, output: () => stderr, stop };
    } catch (err) {
      await stop();
      if (attempt >= 3 || !stderr.includes('address already in use')) throw err;
    }
  }
}

function registryConfig(storage: string, host: string): string {
  return `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
http:
  addr: ${host}
health:
  storagedriver:
    enabled: false
`;
}

/** A loopback TCP port nobody listened on a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** `command` as file and arguments, run inside the namespace when one is given. */
function inNetns(netnsPath: string | undefined, command: string[]): [string, string[]] {
  const argv = netnsPath === undefined ? command : ['nsenter', `--net=${netnsPath}`, ...command];
  const [file = '', ...args] = argv;
  return [file, args];
}

/** GET /v2/ answers 200: through fetch here, through curl inside a namespace. */
function apiAnswers(host: string, netnsPath: string | undefined): Promise<boolean> {
  const url = `http://${host}/v2/`;
  if (netnsPath === undefined) {
    return fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
  }
  return run(...inNetns(netnsPath, ['curl', '-sf', '-m', '1', '-o', '/dev/null', url])).then(
    () => true,
    () => false,
  );
}

async function waitForApi(
  host: string,
  child: ChildProcess,
  stderr: () => string,
  netnsPath: string | undefined,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `docker-registry exited (${child.exitCode ?? child.signalCode}): ${stderr()}`,
      );
    }
    if (await apiAnswers(host, netnsPath)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry on ${host} did not answer /v2/ in 15s: ${stderr()}`);
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Pushes the image an OCI layout dir names `ref` (default: its only entry) to HOST/REPO:TAG with
 * skopeo (run inside `netnsPath` for a registry there). An index is pushed whole (`--all`), every
 * platform's manifest with it.
 */
export async function pushImage(
  source: string,
  host: string,
  repoTag: string,
  options: { ref?: string; netnsPath?: string } = {},
): Promise<void> {
  const { ref, isIndex } = await layoutEntry(source, options.ref);
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (isIndex) args.push('--all');
  args.push(`oci:${source}:${ref}`, `docker://${host}/${repoTag}`);
  try {
    await run(...inNetns(options.netnsPath, ['skopeo', ...args]), { timeout: 120_000 });
  } catch (err) {
    const stderr = err instanceof Error && 'stderr' in err ? String(err.stderr) : String(err);
    throw new Error(`skopeo ${args.join(' ')} failed: ${stderr}`);
  }
}

const REF_NAME = 'org.opencontainers.image.ref.name';

async function layoutEntry(
  dir: string,
  wanted: string | undefined,
): Promise<{ ref: string; isIndex: boolean }> {
  const index = decodeJson(Index, await readFile(join(dir, 'index.json')), `${dir}/index.json`);
  const entries = index.manifests.filter(
    (m) => wanted === undefined || m.annotations?.[REF_NAME] === wanted,
  );
  const ref = entries[0]?.annotations?.[REF_NAME];
  if (entries.length !== 1 || ref === undefined) {
    throw new Error(`${dir}: name one image with { ref } (found ${entries.length} candidates)`);
  }
  return { ref, isIndex: isIndexType(entries[0]?.mediaType ?? '') };
}
