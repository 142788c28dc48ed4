import { PeerClient, type NodeIdentity } from '../cluster';
import { parseHostPort } from '../host-port';
import type { Dial } from './types';

/**
 * Heartbeats over the peer API: Hello with mutual TLS, pinned to the node id when known, telling
 * the other end `selfAddress` so that it heartbeats this node back.
 */
export function peerDialer(identity: NodeIdentity, selfAddress: string): Dial {
  return (address, expectedNodeId) => {
    const client = new PeerClient(identity, parseHostPort(address), expectedNodeId);
    return {
      hello: (timeoutMs) => client.hello({ timeoutMs, address: selfAddress }),
      close: () => {
        client.close();
      },
    };
  };
}
