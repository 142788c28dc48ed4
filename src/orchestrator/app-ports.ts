import type { App } from '../bundle/types';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { Backend, ProxyTable } from '../proxy';
import type { Replica } from './replica';

/** Where an app's published ports go: the node's proxy table, on the publish address. */
export interface PortTarget {
  proxies: ProxyTable;
  /** Address the published ports listen on; default all. */
  publishAddress?: string;
  log: Logger;
}

/**
 * Points each of the app's published ports at its replicas that serve: running, past the start
 * of their healthcheck; an unhealthy one stays listed as such, so the proxy fails over from it.
 */
export async function publishPorts(
  target: PortTarget,
  app: App,
  replicas: Iterable<Replica>,
): Promise<void> {
  const serving = [...replicas].filter(
    (r) => r.state === 'running' && r.ip !== undefined && r.health !== 'starting',
  );
  for (const port of app.ports) {
    const backends: Backend[] = serving.map((r) => ({
      id: r.id,
      host: r.ip ?? '',
      port: port.containerPort,
      healthy: r.health !== 'unhealthy',
    }));
    try {
      await publish(target, app, port, backends);
    } catch (err) {
      target.log.error('could not publish port', {
        app: app.name,
        port: port.hostPort,
        err: messageOf(err),
      });
    }
  }
}

/** Leaves the ports published with no backends; the orchestrator unpublishes them after. */
export async function unroutePorts(target: PortTarget, app: App): Promise<void> {
  await Promise.all(
    app.ports.map((port) =>
      // A port that never got published (taken, say) has no traffic to stop.
      publish(target, app, port, []).catch(() => undefined),
    ),
  );
}

async function publish(
  target: PortTarget,
  app: App,
  port: App['ports'][number],
  backends: Backend[],
): Promise<void> {
  await target.proxies.publish({
    owner: app.name,
    protocol: port.protocol,
    port: port.hostPort,
    ...(target.publishAddress === undefined ? {} : { host: target.publishAddress }),
    backends,
  });
}
