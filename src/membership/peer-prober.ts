import { connect } from 'node:net';
import { PeerChannel } from '../peer';
import type { NodeIdentity } from '../trust';
import { UnavailableError } from '../errors';
import { parseHostPort } from '../host-port';
import { MembershipClient } from './membership-client';
import type { Dial, HelloAnswer, Prober } from './types';

/** One connection to a peer that can say Hello; a peer channel in the agent. */
export interface HelloChannel {
  hello(timeoutMs: number): Promise<HelloAnswer>;
  close(): void;
}

/** Whether a new TCP connection to the peer gets through within `timeoutMs`. */
export type Reachable = (timeoutMs: number) => Promise<boolean>;

/**
 * Heartbeats over the peer API: Hello with mutual TLS, pinned to the node id when known, telling
 * the other end `selfAddress` so that it heartbeats this node back.
 */
export function peerDialer(identity: NodeIdentity, selfAddress: string): Dial {
  return (address, expectedNodeId) => {
    const target = parseHostPort(address);
    return reconnectingProber(
      () => {
        const channel = new PeerChannel(identity, target, expectedNodeId);
        const client = new MembershipClient(channel);
        return {
          hello: (timeoutMs) => client.hello({ timeoutMs, address: selfAddress }),
          close: () => {
            channel.close();
          },
        };
      },
      (timeoutMs) => tcpReachable(target.host, target.port, timeoutMs),
    );
  };
}

/**
 * A prober that replaces its channel once a failing peer can be reached again. A connection to a
 * peer that went silent (a pulled cable) is not refused, it hangs: its packets are resent on
 * TCP's doubling timer, so the old channel notices the peer is back only at the next resend,
 * seconds to minutes later. So after a failed Hello, each heartbeat first tries a plain TCP
 * connection of its own (given up and destroyed on timeout, so nothing is left pending), and
 * only when that gets through is the old channel closed and a new one opened. Opening a gRPC
 * channel per failed heartbeat instead would leave a connect pending in each closed channel,
 * which the peer accepts later and never sees closed.
 */
export function reconnectingProber(open: () => HelloChannel, reachable: Reachable): Prober {
  let channel: HelloChannel | undefined;
  let failing = false;
  return {
    hello: async (timeoutMs) => {
      if (failing && channel !== undefined) {
        if (!(await reachable(timeoutMs))) {
          throw new UnavailableError(`no connection to the peer within ${timeoutMs} ms`);
        }
        channel.close();
        channel = undefined;
      }
      const current = (channel ??= open());
      try {
        const answer = await current.hello(timeoutMs);
        failing = false;
        return answer;
      } catch (err) {
        failing = true;
        throw err;
      }
    },
    close: () => {
      channel?.close();
      channel = undefined;
    },
  };
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => {
      done(false);
    }, timeoutMs);
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}
