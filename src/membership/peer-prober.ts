import { PeerClient, type NodeIdentity } from '../cluster';
import { parseHostPort } from '../host-port';
import type { Dial, HelloAnswer, Prober } from './types';

/** One connection to a peer that can say Hello; a PeerClient in the agent. */
export interface HelloChannel {
  hello(timeoutMs: number): Promise<HelloAnswer>;
  close(): void;
}

/**
 * Heartbeats over the peer API: Hello with mutual TLS, pinned to the node id when known, telling
 * the other end `selfAddress` so that it heartbeats this node back.
 */
export function peerDialer(identity: NodeIdentity, selfAddress: string): Dial {
  return (address, expectedNodeId) =>
    reconnectingProber(() => {
      const client = new PeerClient(identity, parseHostPort(address), expectedNodeId);
      return {
        hello: (timeoutMs) => client.hello({ timeoutMs, address: selfAddress }),
        close: () => {
          client.close();
        },
      };
    });
}

/**
 * A prober that opens a fresh channel after every failed Hello. A connection to a peer that went
 * silent (a pulled cable) is not refused, it hangs: its packets are resent on TCP's doubling
 * timer, and a connect pending on it has no timeout of its own, so an old channel notices the
 * peer is back only at the next resend, seconds to minutes later. A new connection per heartbeat
 * while the peer is silent finds it within one heartbeat.
 */
export function reconnectingProber(open: () => HelloChannel): Prober {
  let channel: HelloChannel | undefined;
  return {
    hello: async (timeoutMs) => {
      const current = (channel ??= open());
      try {
        return await current.hello(timeoutMs);
      } catch (err) {
        if (channel === current) channel = undefined;
        current.close();
        throw err;
      }
    },
    close: () => {
      channel?.close();
      channel = undefined;
    },
  };
}
