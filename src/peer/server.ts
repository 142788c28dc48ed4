import { Server } from '@grpc/grpc-js';
import { UnavailableError } from '../errors';
import type { ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from '../trust/identity';
import { PEER_KEEPALIVE, peerServerCredentials } from '../trust/tls';
import { membersOnly } from './auth';

export interface PeerServerOptions {
  /** The node's identity when the server starts; its TLS certificate comes from it. */
  identity: () => NodeIdentity;
  /** Every service the server offers; each room brings its own. */
  services: readonly ServiceBinding[];
  /** Fully qualified names of the services open to callers without a cluster certificate. */
  openServices?: readonly string[];
  /** Whether a member's certificate is revoked (it left): refused like a stranger's. */
  isRevoked?: (nodeId: string) => boolean;
}

/**
 * The peer API on TCP with TLS. Only the services named open take callers without a cluster
 * certificate; every other one, including any added later, needs a client certificate signed by
 * the cluster CA (the `membersOnly` interceptor).
 */
export class PeerServer {
  private readonly server: Server;
  private readonly identity: NodeIdentity;

  constructor(options: PeerServerOptions) {
    this.identity = options.identity();
    this.server = new Server({
      ...PEER_KEEPALIVE,
      interceptors: [
        membersOnly(this.identity.caCertPem, options.openServices ?? [], options.isRevoked),
      ],
    });
    for (const b of options.services) this.server.addService(b.definition, b.implementation);
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
