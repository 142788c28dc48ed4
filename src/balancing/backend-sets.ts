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

/** What one member answered: its replicas. */
export interface MemberAnswer {
  member: MemberView;
  replicas: readonly RemoteReplica[];
}

/**
 * Groups the members' serving replicas' direct endpoints by (app, protocol, host port). TCP
 * ones get `connectTimeoutMs`: the proxy gives up on a silent member that soon and tries the
 * next backend while the client waits.
 */
export function backendSets(
  answers: readonly MemberAnswer[],
  connectTimeoutMs: number,
): RemoteBackendSet[] {
  const sets = new Map<string, RemoteBackendSet>();
  for (const { member, replicas } of answers) {
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
          ...(protocol === 'tcp' && { connectTimeoutMs }),
        });
      });
    }
  }
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
