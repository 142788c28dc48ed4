import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { MdnsPeer } from '../../src/discovery';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');

/**
 * Compiles src/discovery (and what it imports) to plain JS in a temp dir for child processes,
 * which cannot run TypeScript; fresher than dist/, which only `npm run build` updates.
 */
export async function compileDiscovery(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'budgie-discovery-js-'));
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const flags = ['--outDir', out, '--rootDir', join(ROOT, 'src'), '--module', 'commonjs'];
  flags.push('--target', 'ES2022', '--moduleResolution', 'node', '--esModuleInterop');
  flags.push('--skipLibCheck', '--strict', '--types', 'node');
  await run(tsc, [...flags, join(ROOT, 'src', 'discovery', 'index.ts')], { cwd: ROOT });
  // Lets the compiled files find multicast-dns and winston the way they would inside the repo.
  await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  return out;
}

/** A JSON line from the child: its events, stamped with the child's Date.now(). */
export type NodeLine =
  | { event: 'ready' | 'closed' | 'updated-self'; t: number }
  | { event: 'found' | 'updated' | 'lost'; peer: MdnsPeer; t: number };

// The child: advertises and browses, prints events as JSON lines, obeys `cluster ID` and `close`.
const CHILD = `
const [dir, nodeId, name, address, ttl] = process.argv.slice(1);
const d = require(dir + '/discovery/index.js');
const log = require(dir + '/log.js').createLogger({ level: 'debug' });
const out = (o) => process.stdout.write(JSON.stringify({ ...o, t: Date.now() }) + '\\n');
(async () => {
  const transport = await d.openMulticastTransport({ interfaceAddress: address, log });
  const advert = { nodeId, clusterId: undefined, name, version: d.PROTOCOL_VERSION };
  const advertiser = new d.MdnsAdvertiser(transport, {
    advert, port: 7447, addresses: () => [address], ttlSeconds: Number(ttl), log,
  });
  const browser = new d.MdnsBrowser(transport, { selfNodeId: nodeId, log });
  for (const event of ['found', 'updated', 'lost']) browser.on(event, (peer) => out({ event, peer }));
  browser.start();
  await advertiser.start();
  out({ event: 'ready' });
  require('readline').createInterface({ input: process.stdin }).on('line', async (line) => {
    const [command, arg] = line.split(' ');
    if (command === 'cluster') {
      await advertiser.update({ clusterId: arg });
      out({ event: 'updated-self' });
    } else if (command === 'close') {
      await advertiser.close();
      await browser.close();
      await transport.close();
      out({ event: 'closed' });
      process.exit(0);
    }
  });
})().catch((err) => { console.error(err); process.exit(1); });
`;

export interface DiscoveryNode {
  nodeId: string;
  name: string;
  address: string;
  lines: NodeLine[];
  /** Resolves with the first line (seen or to come) that matches, or rejects after `timeoutMs`. */
  waitFor(match: (line: NodeLine) => boolean, timeoutMs: number, what: string): Promise<NodeLine>;
  send(command: string): void;
  kill(): Promise<void>;
  stderr(): string;
}

/** Starts a discovery child inside a namespace (nsenter, not `ip netns exec`). */
export function startDiscoveryNode(
  jsDir: string,
  netnsPath: string,
  node: { nodeId: string; name: string; address: string; ttlSeconds: number },
): DiscoveryNode {
  const args = [jsDir, node.nodeId, node.name, node.address, String(node.ttlSeconds)];
  const child: ChildProcess = spawn(
    'nsenter',
    [`--net=${netnsPath}`, process.execPath, '-e', CHILD, ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: NodeLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  if (child.stdout !== null) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      lines.push(JSON.parse(text) as NodeLine);
      for (const wake of waiters) wake();
    });
  }
  let gone = false;
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      gone = true;
      for (const wake of waiters) wake();
      done();
    }),
  );
  return {
    ...node,
    lines,
    stderr: () => stderr,
    send: (command) => child.stdin?.write(`${command}\n`),
    waitFor(match, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(match);
          if (hit === undefined && !gone) return;
          cleanup();
          if (hit !== undefined) resolve(hit);
          else reject(new Error(`${node.name} exited before ${what}\n${stderr}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${node.name}: no ${what} within ${timeoutMs} ms\n${stderr}`));
        }, timeoutMs).unref(); // a wait abandoned by a failed test must not hold jest open
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
