import type { Fleet, PlacedReplica } from '../fleet';
import {
  backendSets,
  type MemberAnswer,
  type RemoteBackendSet,
  type RemoteReplica,
} from './backend-sets';

/** Where remote backends go: the ProxyTable merges them with the local replicas of each port. */
export interface RemoteBackendSink {
  setRemote(sets: readonly RemoteBackendSet[]): void;
}

export interface RemoteBalancerOptions {
  /** The members' replicas: the balancer asks nobody itself. */
  fleet: Pick<Fleet, 'answers' | 'onUpdate'>;
  sink: RemoteBackendSink;
  /**
   * The proxy's connect timeout for remote backends. On a LAN a SYN is answered within a
   * millisecond and a lost one is resent only after 1 s, so a connect still pending after this
   * is to a member that went silent: the client is better served by the next backend. Default
   * 500 ms.
   */
  connectTimeoutMs?: number;
}

/**
 * Keeps every published port's remote backends in step with the cluster: on every update of the
 * fleet it hands the proxy table the direct endpoints of the serving replicas of each alive
 * member whose latest answer came in. A member that turns suspect or dead loses its backends at
 * once (the proxy abandons connects still pending to them), and so does one whose latest ask
 * failed; one that turns alive again counts once it has answered. The proxy's connect failover
 * covers the time in between.
 */
export class RemoteBalancer {
  private unsubscribe: (() => void) | undefined;
  /** What the sink was last given, to hand it only changes. */
  private given: string | undefined;

  constructor(private readonly options: RemoteBalancerOptions) {}

  start(): void {
    this.unsubscribe = this.options.fleet.onUpdate(() => {
      this.refresh();
    });
    this.refresh();
  }

  /** Hands the sink the backends the fleet shows now, if they changed. */
  refresh(): void {
    const answers: MemberAnswer[] = [];
    for (const { member, listing, current } of this.options.fleet.answers()) {
      if (member.state !== 'alive' || !current || listing === undefined) continue;
      answers.push({ member, replicas: listing.replicas.map(remoteReplica) });
    }
    const sets = backendSets(answers, this.options.connectTimeoutMs ?? 500);
    const key = JSON.stringify(sets);
    // Before the first answer there is nothing to take back: stay silent.
    if (key === this.given || (this.given === undefined && sets.length === 0)) return;
    this.given = key;
    this.options.sink.setRemote(sets);
  }

  close(): Promise<void> {
    this.unsubscribe?.();
    this.options.sink.setRemote([]);
    return Promise.resolve();
  }
}

function remoteReplica(placed: PlacedReplica): RemoteReplica {
  const r = placed.replica;
  return {
    id: r.id,
    app: r.app,
    serving: r.state === 'running' && (r.health === 'healthy' || r.health === 'none'),
    ports: r.ports,
    direct: placed.direct,
  };
}
