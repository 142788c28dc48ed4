import { Server } from '@grpc/grpc-js';
import type { JoinRequest, JoinResponse, Member } from '../gen/budgie/peer/v1/peer';
import { UnavailableError } from '../errors';
import type { Logger } from '../log';
import { ChallengeStore } from '../trust/challenges';
import type { ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from '../trust/identity';
import { admitter, JOIN_SERVICE_NAME, joinService } from '../trust/join-service';
import {
  membershipService,
  type HelloCaller,
  type LeaveHandling,
} from '../membership/membership-service';
import { membersOnly } from './auth';
import { peerServerCredentials } from '../trust/tls';

export interface PeerServerOptions {
  /** The node's identity when the server starts; its TLS certificate comes from it. */
  identity: () => NodeIdentity;
  log: Logger;
  now?: () => number;
  members?: () => Member[];
  /** Called on every Hello from a member, with who it is and where it says it listens. */
  onHello?: (caller: HelloCaller) => void;
  /** More members-only services (replicas, blobs, ...) as other rooms add them. */
  services?: readonly ServiceBinding[];
  /** On a member without the CA key: hands a join to the member that holds it. */
  forwardJoin?: (req: JoinRequest) => Promise<JoinResponse>;
  /** Members that left: refused by the interceptor, told to members in Hello answers. */
  leaving?: LeaveHandling & { has(nodeId: string): boolean };
}

/**
 * The peer API on TCP with TLS. JoinService is open; every other service, including any added
 * later, needs a client certificate signed by the cluster CA (the `membersOnly` interceptor).
 */
export class PeerServer {
  private readonly server: Server;
  private readonly identity: NodeIdentity;

  constructor(options: PeerServerOptions) {
    this.identity = options.identity();
    this.server = new Server({
      interceptors: [
        membersOnly(this.identity.caCertPem, [JOIN_SERVICE_NAME], (nodeId) =>
          options.leaving === undefined ? false : options.leaving.has(nodeId),
        ),
      ],
    });
    const now = options.now ?? Date.now;
    const log = options.log;
    const admission = {
      identity: options.identity,
      now,
      ...(options.members && { members: options.members }),
      log,
    };
    const bindings = [
      joinService({
        ...admission,
        challenges: new ChallengeStore({ now }),
        ...(options.forwardJoin && { forward: options.forwardJoin }),
      }),
      membershipService({
        identity: options.identity,
        log,
        ...(options.onHello && { onHello: options.onHello }),
        ...(options.leaving && { leaving: options.leaving }),
        ...(options.members && { members: options.members }),
        admit: admitter(admission),
      }),
      ...(options.services ?? []),
    ];
    for (const b of bindings) this.server.addService(b.definition, b.implementation);
  }

  /** Listens on `HOST:PORT` (port 0 picks one) and returns the port. */
  async start(listen: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(listen, peerServerCredentials(this.identity), (err, port) => {
        if (err)
          reject(new UnavailableError(`peer API: cannot listen on ${listen}: ${err.message}`));
        else resolve(port);
      });
    });
  }

  /**
   * Stops taking calls, lets running ones finish for up to `graceMs`, then cuts them and returns.
   * It does not wait for tryShutdown's callback past the grace: a peer connection left half-closed
   * by a member that vanished (FIN-WAIT-2) keeps grpc-js waiting even after forceShutdown.
   */
  async stop(graceMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
