import type { Logger } from '../log';
import { MdnsBrowser } from './browser';
import { systemClock, type Clock } from './clock';
import { openMulticastTransport } from './multicast-transport';
import type { MdnsTransport } from './transport';
import type { MdnsPeer } from './types';

export interface DiscoverOptions {
  /** How long to listen; about a second answers on a quiet LAN. */
  timeoutMs?: number;
  log: Logger;
  /** A transport to use (and leave open); by default one is opened and closed. */
  transport?: MdnsTransport;
  /** `--advertise ADDR`: ask on that interface only. */
  interfaceAddress?: string;
  selfNodeId?: string;
  clock?: Clock;
  /** Ends the wait early; what answered so far is returned. */
  signal?: AbortSignal;
}

/**
 * One-shot discovery for the CLI (`budgie chirp`): asks, listens for `timeoutMs`, and returns the
 * nodes whose adverts are still live then, sorted by name. Asks twice, the second time a third of
 * the way in, because a single multicast query can be lost.
 */
export async function discover(options: DiscoverOptions): Promise<MdnsPeer[]> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const clock = options.clock ?? systemClock;
  const transport =
    options.transport ??
    (await openMulticastTransport({
      log: options.log,
      interfaceAddress: options.interfaceAddress,
    }));
  const browser = new MdnsBrowser(transport, {
    log: options.log,
    clock,
    selfNodeId: options.selfNodeId,
    // Only the initial query and the one below: continuous querying is for long-lived browsers.
    continuous: false,
  });
  try {
    browser.start();
    const cancelSecondQuery = clock.schedule(() => {
      browser.query();
    }, timeoutMs / 3);
    await new Promise<void>((resolve) => {
      const cancel = clock.schedule(resolve, timeoutMs);
      options.signal?.addEventListener(
        'abort',
        () => {
          cancel();
          resolve();
        },
        { once: true },
      );
      if (options.signal?.aborted === true) resolve();
    });
    cancelSecondQuery();
    return browser
      .peers()
      .sort((a, b) => a.name.localeCompare(b.name) || a.nodeId.localeCompare(b.nodeId));
  } finally {
    await browser.close();
    if (options.transport === undefined) await transport.close();
  }
}
