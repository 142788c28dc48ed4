import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { overlaps, parseCidr } from '../../src/network/cidr';
import { parseProcRoutes } from '../../src/network/routes';

const run = promisify(execFile);

export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

/**
 * A /24 in 10.199.0.0/16 (outside Budgie's default range) that no host route overlaps now, so
 * concurrent runs and agents on this host do not share the test's subnet.
 */
export async function freeSubnet24(): Promise<string> {
  const routes = parseProcRoutes(await readFile('/proc/net/route', 'utf8'));
  for (let attempt = 0; attempt < 64; attempt++) {
    const subnet = `10.199.${randomBytes(1)[0] ?? 0}.0/24`;
    const cidr = parseCidr(subnet);
    if (cidr === undefined) continue;
    if (!routes.some((r) => r.destination.prefix > 0 && overlaps(r.destination, cidr))) {
      return subnet;
    }
  }
  throw new Error('no free /24 in 10.199.0.0/16');
}

/** Runs a command inside the network namespace at `netnsPath` (nsenter, not `ip netns exec`). */
export async function inNetns(netnsPath: string, command: string[]): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=${netnsPath}`, ...command], { timeout: 10_000 });
  return stdout;
}

/**
 * GET `url` from inside the namespace, as a client on that host would: "STATUS BODY", or "0 why"
 * when the request fails.
 */
export function httpGetIn(netnsPath: string, url: string): Promise<string> {
  return inNetns(netnsPath, [
    process.execPath,
    '-e',
    `require('http').get(${JSON.stringify(url)}, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => process.stdout.write(res.statusCode + ' ' + b)); }).on('error', (e) => process.stdout.write('0 ' + e.message));`,
  ]);
}

/** The IPv4 addresses per interface in the namespace, as "eth0 10.199.4.2/24". */
export async function ipv4Addresses(netnsPath: string): Promise<string[]> {
  const out = await inNetns(netnsPath, ['ip', '-4', '-o', 'addr', 'show']);
  return out
    .split('\n')
    .map((line) => /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line))
    .flatMap((m) => (m === null ? [] : [`${m[1] ?? ''} ${m[2] ?? ''}`]));
}

export async function netnsNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').flatMap((line) => line.split(' ')[0] || []);
}

/** Lines of `iptables -t nat -S` that mention `text`. */
export async function natRulesMentioning(text: string): Promise<string[]> {
  const { stdout } = await run('iptables', ['-t', 'nat', '-S']);
  return stdout.split('\n').filter((line) => line.includes(text));
}

/** A TCP server inside a namespace, in a node child process. */
export interface NetnsServer {
  stop(): Promise<void>;
}

// Answers "pong:<what it read>", or with `address`, "seen:<the client's address>".
const SERVER = `require('net').createServer((s) => {
  let got = ''; s.on('data', (d) => { got += d; if (got.endsWith('\\n')) s.end(
    process.argv[2] === 'address' ? 'seen:' + s.remoteAddress.replace(/^::ffff:/, '') + '\\n' : 'pong:' + got); });
}).listen(Number(process.argv[1]), () => console.log('listening'));`;

export async function startServer(
  netnsPath: string,
  port: number,
  answer: 'echo' | 'address' = 'echo',
): Promise<NetnsServer> {
  const child = spawn(
    'nsenter',
    [`--net=${netnsPath}`, process.execPath, '-e', SERVER, String(port), answer],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
    child.on('exit', (code) => {
      reject(new Error(`server in ${netnsPath} exited with ${String(code)}: ${stderr}`));
    });
  });
  return { stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Connects from this process (the host's namespace), sends `message`, returns the answer. */
export function askFromHost(host: string, port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 5000 });
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('end', () => {
      resolve(answer);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no answer from ${host}:${port}`)));
    socket.on('error', reject);
    socket.end(`${message}\n`);
  });
}

const CLIENT = `const s = require('net').connect({ host: process.argv[1], port: Number(process.argv[2]), timeout: 5000 });
let a = ''; s.on('data', (d) => (a += d)); s.on('end', () => process.stdout.write(a));
s.on('timeout', () => { console.error('timeout'); process.exit(2); });
s.end(process.argv[3] + '\\n');`;

/** The same, from inside the namespace at `netnsPath`. */
export function askFromNetns(netnsPath: string, host: string, port: number, message: string) {
  return inNetns(netnsPath, [process.execPath, '-e', CLIENT, host, String(port), message]);
}

/**
 * Removes what a test network may have left: namespaces with `netnsPrefix`, the bridge, and nat
 * rules and chains whose comment names `networkName`. Each step runs even when another fails.
 */
export async function removeTestNetwork(
  netnsPrefix: string,
  bridge: string,
  networkName: string,
): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  for (const name of (await netnsNames()).filter((n) => n.startsWith(netnsPrefix))) {
    await attempt(`netns ${name}`, () => run('ip', ['netns', 'delete', name]));
  }
  const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
  if (links.includes(` ${bridge}:`)) {
    await attempt(`bridge ${bridge}`, () => run('ip', ['link', 'delete', bridge]));
  }
  const rules = await natRulesMentioning(`name: \\"${networkName}\\"`);
  const chains = new Set<string>();
  for (const rule of rules.filter((r) => r.startsWith('-A '))) {
    const args = rule.slice(3).match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
    const unquoted = args.map((a) => (a.startsWith('"') ? a.slice(1, -1).replace(/\\"/g, '"') : a));
    const jump = unquoted[unquoted.indexOf('-j') + 1];
    if (jump?.startsWith('CNI-') === true) chains.add(jump);
    await attempt(`rule ${rule}`, () => run('iptables', ['-t', 'nat', '-D', ...unquoted]));
  }
  for (const chain of chains) {
    await attempt(`chain ${chain}`, async () => {
      await run('iptables', ['-t', 'nat', '-F', chain]);
      await run('iptables', ['-t', 'nat', '-X', chain]);
    });
  }
  return problems;
}

/** ip_forward, which the bridge plugin turns on for gateway bridges. */
export async function ipForwarding(): Promise<string> {
  return (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();
}

export async function setIpForwarding(value: string): Promise<void> {
  await writeFile('/proc/sys/net/ipv4/ip_forward', value);
}
