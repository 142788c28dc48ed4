import type { Clock } from '../discovery/clock';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { MemberView } from '../membership';
import type { Backend, ProxyProtocol } from '../proxy';

/** A replica on another member, as the balancer needs it from that member's replica list. */
export interface RemoteReplica {
  id: string;
  app: string;
  /** Running and not starting or unhealthy: worth new connections. */
  serving: boolean;
  ports: readonly { hostPort: number; protocol: string }[];
  /** The member's direct endpoint per port, in the order of `ports`; '' where there is none. */
  direct: readonly string[];
}

/** Extra backends for one published port, by the app that must own it here. */
export interface RemoteBackendSet {
  owner: string;
  protocol: ProxyProtocol;
  port: number;
  backends: Backend[];
}

/** Where remote backends go: the ProxyTable merges them with the local replicas of each port. */
export interface RemoteBackendSink {
  setRemote(sets: readonly RemoteBackendSet[]): void;
}

export interface BalancerSources {
  /** The members this node knows, itself excluded; undefined outside a cluster. */
  members(): readonly MemberView[] | undefined;
  /** The member's replicas; rejects when the call fails or `signal` aborts. */
  ask(member: MemberView, signal: AbortSignal): Promise<RemoteReplica[]>;
}

export interface RemoteBalancerOptions {
  sources: BalancerSources;
  sink: RemoteBackendSink;
  clock: Clock;
  log: Logger;
  /** How often the members' replica lists are read. Default 2 s. */
  intervalMs?: number;
  /** How long one member may take to answer before its replicas count as gone. Default 1 s. */
  timeoutMs?: number;
}

/**
 * Keeps every published port's remote backends in step with the cluster: every `intervalMs` it
 * asks each alive member for its replicas and hands the serving ones' direct endpoints to the
 * proxy table. A suspect, dead or silent member, a gone or unhealthy replica, loses its backends
 * at the next round; the proxy's passive health covers the time in between.
 */
export class RemoteBalancer {
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: RemoteBalancerOptions) {}

  start(): void {
    this.schedule(0);
  }

  /** One round now; resolves once the sink has the result. */
  async refresh(): Promise<void> {
    const { sources, sink, log } = this.options;
    const members = (sources.members() ?? []).filter((m) => m.state === 'alive');
    const answers = await Promise.all(
      members.map((m) =>
        this.askInTime(m).catch((err: unknown) => {
          log.debug('no replica list for balancing', { member: m.name, err: messageOf(err) });
          return [];
        }),
      ),
    );
    if (this.stopped) return;
    sink.setRemote(backendSets(members, answers));
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.abort.abort();
    await this.running;
    this.options.sink.setRemote([]);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.cancel = this.options.clock.schedule(() => {
      this.running = this.refresh().finally(() => {
        this.schedule(this.options.intervalMs ?? 2000);
      });
    }, delayMs);
  }

  private async askInTime(member: MemberView): Promise<RemoteReplica[]> {
    const controller = new AbortController();
    const onAbort = (): void => {
      controller.abort();
    };
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    const cancelTimer = this.options.clock.schedule(onAbort, this.options.timeoutMs ?? 1000);
    try {
      const asked = this.options.sources.ask(member, controller.signal);
      const aborted = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => {
          reject(new Error('no answer in time'));
        });
      });
      return await Promise.race([asked, aborted]);
    } finally {
      cancelTimer();
      this.abort.signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Groups the members' serving replicas' direct endpoints by (app, protocol, host port). */
export function backendSets(
  members: readonly MemberView[],
  answers: readonly RemoteReplica[][],
): RemoteBackendSet[] {
  const sets = new Map<string, RemoteBackendSet>();
  answers.forEach((replicas, i) => {
    const member = members[i];
    if (member === undefined) return;
    for (const r of replicas) {
      if (!r.serving) continue;
      r.ports.forEach((p, j) => {
        const endpoint = parseEndpoint(r.direct[j] ?? '');
        const protocol = p.protocol === 'udp' ? 'udp' : 'tcp';
        if (endpoint === undefined || endpoint.protocol !== protocol) return;
        const key = `${r.app}\n${p.hostPort}/${protocol}`;
        let set = sets.get(key);
        if (set === undefined) {
          set = { owner: r.app, protocol, port: p.hostPort, backends: [] };
          sets.set(key, set);
        }
        // Prefixed so a remote id can never be taken for a local replica's (drains, UDP cuts).
        set.backends.push({
          id: `remote/${member.nodeId}/${r.id}`,
          host: endpoint.host,
          port: endpoint.port,
        });
      });
    }
  });
  return [...sets.values()];
}

/** "HOST:PORT" or "HOST:PORT/udp"; undefined for anything else (a member's data is not trusted). */
export function parseEndpoint(
  text: string,
): { host: string; port: number; protocol: ProxyProtocol } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(\/udp)?$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? '', port, protocol: m[3] === undefined ? 'tcp' : 'udp' };
}
