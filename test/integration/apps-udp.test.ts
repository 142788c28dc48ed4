import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../support/agent';
import { cli, type CliRun } from '../support/cli';
import { startContainerd, type PrivateContainerd } from '../support/containerd';
import { Ctr } from '../support/ctr';
import { until } from '../support/http-get';
import { UDP_ECHO_PORT, udpEchoImage } from '../support/udp-echo-image';

const run = promisify(execFile);

interface Row {
  id: string;
  app: string;
  state: string;
  health: string;
  ports: { hostPort: number; containerPort: number; protocol: string }[];
}

/** What one datagram got back: the answering replica's hostname, an ICMP error, or nothing. */
type Outcome = { answer: string } | { error: string } | { silent: true };

/**
 * One client flow: a socket of its own (so a source port of its own), connected to the published
 * port so that an ICMP port unreachable comes back as an error.
 */
class UdpClient {
  private constructor(private readonly socket: dgram.Socket) {}

  static async open(port: number): Promise<UdpClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, '127.0.0.1', () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    return new UdpClient(socket);
  }

  /** Sends one datagram with a unique payload and waits for its echo ("<hostname> <payload>"). */
  ask(timeoutMs = 1000): Promise<Outcome> {
    const payload = `ping-${randomBytes(6).toString('hex')}`;
    return new Promise((resolve) => {
      const done = (outcome: Outcome): void => {
        clearTimeout(timer);
        this.socket.removeListener('message', onMessage);
        this.socket.removeListener('error', onError);
        resolve(outcome);
      };
      // A late echo of an earlier datagram carries another payload: ignored.
      const onMessage = (msg: Buffer): void => {
        const [host, echoed] = msg.toString().split(' ');
        if (echoed === payload && host !== undefined) done({ answer: host });
      };
      const onError = (err: Error): void => {
        done({ error: err.message });
      };
      const timer = setTimeout(() => {
        done({ silent: true });
      }, timeoutMs);
      this.socket.on('message', onMessage);
      this.socket.on('error', onError);
      this.socket.send(payload);
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** A UDP port nobody holds on 127.0.0.1 right now. */
async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/**
 * A UDP published port end to end: a static C echo server (test/fixtures/udp-echo.c, compiled at
 * test time) in 2 replicas on a real agent; new client flows go round-robin, one flow sticks to
 * its replica, a replica killed with SIGKILL is replaced and new flows reach the replacement, and
 * `budgie stop` closes the port.
 */
describe('a UDP published port against real replicas', () => {
  let containerd: PrivateContainerd;
  let ctr: Ctr;
  let agent: AgentProcess;
  let dir: string;
  let image: string;
  let port: number;
  const suffix = randomBytes(3).toString('hex');
  const bridge = `bu${suffix}`;
  const subnet = `10.192.${16 + (parseInt(suffix.slice(0, 2), 16) % 200)}.0/24`;
  const agentArgs = ['--bridge', bridge, '--subnet', subnet, '--publish-address', '127.0.0.1'];
  const clients: UdpClient[] = [];

  /** What beforeAll started, undone in reverse even when it failed half-way. */
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-udp-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    cleanup.push(() => run('ip', ['link', 'del', bridge]));
    image = await udpEchoImage(dir);
    containerd = await startContainerd();
    cleanup.push(() => containerd.stop());
    ctr = new Ctr(containerd);
    agent = await startAgent(containerd.socket, containerd.namespace, agentArgs);
    cleanup.push(async () => {
      await cli(['--socket', agent.socket, 'stop', 'echo']);
      await agent.stop();
    });
    port = await freeUdpPort();
  });

  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  const budgie = (...args: string[]): Promise<CliRun> => cli(['--socket', agent.socket, ...args]);

  async function client(): Promise<UdpClient> {
    const c = await UdpClient.open(port);
    clients.push(c);
    return c;
  }

  async function ps(all = false): Promise<Row[]> {
    const r = await budgie('ps', '--format', 'json', ...(all ? ['--all'] : []));
    expect(r.stderr).toBe('');
    return (JSON.parse(r.stdout) as Row[]).filter((x) => x.app === 'echo');
  }

  /** The app's rows once exactly `n` replicas run and none of them is in `gone`. */
  function settled(n: number, gone: string[] = []): Promise<Row[]> {
    return until(`${n} running echo replicas`, 20_000, async () => {
      const rows = await ps();
      const ok =
        rows.length === n &&
        rows.every((x) => x.state === 'running') &&
        !rows.some((x) => gone.includes(x.id));
      return ok ? rows : undefined;
    });
  }

  /**
   * New flows until every replica in `rows` has answered one: a replica counts as running
   * before its server has bound the port, so early datagrams may be refused or lost.
   */
  async function everyReplicaAnswers(rows: Row[]): Promise<void> {
    const want = rows.map((x) => x.id.slice(0, 12)).sort();
    const seen = new Set<string>();
    const outcomes: string[] = [];
    await until(`answers from ${want.join(', ')}`, 20_000, async () => {
      const outcome = await (await client()).ask(500);
      outcomes.push(JSON.stringify(outcome));
      if ('answer' in outcome) seen.add(outcome.answer);
      return want.every((h) => seen.has(h)) ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; outcomes: ${outcomes.slice(-10).join(' ')}`);
    });
    expect([...seen].sort()).toEqual(want);
  }

  let ids: string[] = [];
  /** A client flow and the replica (short ID) it sticks to. */
  let sticky: UdpClient;
  let home = '';

  it('runs 2 replicas of the echo server behind a UDP host port', async () => {
    const file = join(dir, 'echo.bun');
    await writeFile(
      file,
      `version: "1.0"
name: echo
image:
  oci_archive: ${image}
ports:
  - container_port: ${UDP_ECHO_PORT}
    host_port: ${port}
    protocol: udp
replicas:
  min: 2
stop_timeout: 1s
`,
    );
    const r = await budgie('run', file);
    expect(r.stderr).not.toMatch(/budgie: /);
    expect(r.code).toBe(0);
    const rows = await settled(2);
    ids = rows.map((x) => x.id);
    for (const row of rows) {
      expect(row.ports).toEqual([
        { hostPort: port, containerPort: UDP_ECHO_PORT, protocol: 'udp' },
      ]);
    }
    await everyReplicaAnswers(rows);
  });

  it('sends new client flows round-robin and keeps each flow on its replica', async () => {
    const shorts = ids.map((id) => id.slice(0, 12)).sort();
    sticky = await client();
    const first = await sticky.ask();
    expect(first).toEqual({ answer: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown });
    home = 'answer' in first ? first.answer : '';
    const stickyAnswers: Outcome[] = [];
    const fresh: string[] = [];
    for (let i = 0; i < 6; i++) {
      // Between two datagrams of the sticky flow, a new flow of another client.
      const other = await (await client()).ask();
      expect(other).toEqual({ answer: expect.any(String) as unknown });
      if ('answer' in other) fresh.push(other.answer);
      stickyAnswers.push(await sticky.ask());
    }
    expect(stickyAnswers).toEqual(Array.from({ length: 6 }, () => ({ answer: home })));
    // Two replicas, one flow each in turn: the new flows alternate between them.
    expect([...new Set(fresh)].sort()).toEqual(shorts);
    for (let i = 1; i < fresh.length; i++) expect(fresh[i]).not.toBe(fresh[i - 1]);
  });

  it('replaces a replica killed with SIGKILL; its flow and new ones reach live replicas', async () => {
    // The victim is the sticky flow's replica: that flow must not stay on a dead replica until
    // the drain timeout (10 s) cuts it.
    const victim = ids.find((id) => id.startsWith(home)) ?? '';
    const survivor = ids.find((id) => id !== victim) ?? '';
    const pid = await ctr.taskPid(victim);
    expect(pid).toBeGreaterThan(1);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const moved = await until('the sticky flow answered again', 5000, async () => {
      const outcome = await sticky.ask(200);
      return 'answer' in outcome ? outcome.answer : undefined;
    });
    expect(Date.now() - killedAt).toBeLessThan(3000);
    expect(moved).not.toBe(home);
    const rows = await settled(2, [victim]);
    expect(rows.map((x) => x.id)).toContain(survivor);
    await everyReplicaAnswers(rows);
    ids = rows.map((x) => x.id);
    // Once both answer, every new flow is answered at the first datagram.
    const answered = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const outcome = await (await client()).ask();
      expect(outcome).toEqual({ answer: expect.any(String) as unknown });
      if ('answer' in outcome) answered.add(outcome.answer);
    }
    expect([...answered].sort()).toEqual(ids.map((id) => id.slice(0, 12)).sort());
  });

  it('closes the port on budgie stop: no answer, or an ICMP port unreachable', async () => {
    const before = await client();
    expect(await before.ask()).toEqual({ answer: expect.any(String) as unknown });
    const r = await budgie('stop', 'echo');
    expect(r.code).toBe(0);
    expect(await ps(true)).toEqual([]);
    for (const c of [before, await client()]) {
      const outcome = await c.ask(1000);
      expect('answer' in outcome).toBe(false);
    }
    // Nothing listens any more: the kernel itself refuses a new flow.
    const after = await client();
    expect(await after.ask(1000)).toEqual({
      error: expect.stringMatching(/ECONNREFUSED/) as unknown,
    });
  });
});
