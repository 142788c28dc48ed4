import type { MdnsBrowser, MdnsPeer } from '../discovery';
import { formatHostPort } from '../host-port';
import { NotFoundError } from '../errors';

/**
 * Waits until the browser knows a node advertising `clusterId` and returns the HOST:PORT of
 * every such node known then. Adverts are only hints: the join that follows pins TLS to the
 * token's CA, so a spoofed advert cannot capture the joiner.
 */
export async function findMembers(
  browser: MdnsBrowser,
  clusterId: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string[]> {
  const addressOf = (peer: MdnsPeer): string | undefined => {
    const host = peer.addresses[0];
    return peer.clusterId === clusterId && host !== undefined
      ? formatHostPort({ host, port: peer.port })
      : undefined;
  };
  const known = (): string[] => browser.peers().flatMap((peer) => addressOf(peer) ?? []);
  if (known().length > 0) return known();
  browser.query();
  return new Promise<string[]>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      browser.off('found', onPeer).off('updated', onPeer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onPeer = (peer: MdnsPeer): void => {
      if (addressOf(peer) === undefined) return;
      done();
      resolve(known());
    };
    const onAbort = (): void => {
      done();
      reject(new NotFoundError('join: cancelled while looking for a member by mDNS'));
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new NotFoundError(
          `join: no member of cluster ${clusterId.slice(0, 12)} answered on mDNS within ${timeoutMs / 1000}s; give a member's address with --peer HOST:PORT`,
        ),
      );
    }, timeoutMs);
    browser.on('found', onPeer).on('updated', onPeer);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
