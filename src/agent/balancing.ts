import { DirectEndpoints, RemoteBalancer } from '../balancing';
import { messageOf } from '../errors';
import type { Fleet } from '../fleet';
import type { Logger } from '../log';
import type { ClusterNode } from '../membership';
import { PortProxy, type ProxyTable } from '../proxy';

/** Direct endpoints follow the proxy table at once; this only catches joining a cluster. */
const DIRECT_SYNC_MS = 1000;

export interface Balancing {
  direct: DirectEndpoints;
  /** Starts syncing the direct endpoints and following the fleet; call once the peer API is up. */
  start(cluster: ClusterNode, fleet: Fleet): void;
  close(): Promise<void>;
}

/**
 * Wires cross-node balancing: direct endpoints on the advertise address for this node's replicas,
 * and the members' direct endpoints as extra backends of this node's published ports.
 */
export function balancing(
  advertise: string,
  publishAddress: string,
  proxies: ProxyTable,
  log: Logger,
): Balancing {
  // A port published on one address only (say 127.0.0.1) must not reappear on the advertise one.
  const exposable = ['0.0.0.0', '::', advertise].includes(publishAddress);
  const direct = new DirectEndpoints({
    host: advertise,
    log,
    open: async (protocol, host) => {
      // Drains nothing: a direct endpoint closes only when its one replica is gone.
      const proxy = new PortProxy({ protocol, port: 0, host, log, drainTimeoutMs: 0 });
      await proxy.start();
      return proxy;
    },
  });
  let timer: NodeJS.Timeout | undefined;
  let unwatch = (): void => undefined;
  let syncing: Promise<void> = Promise.resolve();
  let remote: RemoteBalancer | undefined;
  return {
    direct,
    start(cluster, fleet) {
      const sync = (): void => {
        // Outside a cluster nobody would use them: no listeners beyond the published ports.
        const clustered = exposable && cluster.nodes() !== undefined;
        syncing = direct.sync(clustered ? proxies.local() : []).catch((err: unknown) => {
          log.warn('could not sync direct endpoints', { err: messageOf(err) });
        });
      };
      unwatch = proxies.watch(sync);
      const tick = (): void => {
        sync();
        timer = setTimeout(tick, DIRECT_SYNC_MS);
      };
      tick();
      remote = new RemoteBalancer({ fleet, sink: proxies });
      remote.start();
    },
    async close() {
      clearTimeout(timer);
      unwatch();
      await remote?.close();
      await syncing;
      await direct.close();
    },
  };
}
