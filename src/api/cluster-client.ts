import { credentials, Metadata } from '@grpc/grpc-js';
import { UnavailableError } from '../errors';
import {
  ClusterServiceClient,
  type InitResponse,
  type JoinResponse,
  type LeaveResponse,
  type RemoveResponse,
  type NodesResponse,
  type TokenResponse,
} from '../gen/budgie/v1/cluster';
import { errorMapper, unary, type ErrorMapper } from '../rpc/calls';

/** A join may first wait for mDNS (seconds), then prove the token over TLS to the member. */
const DEADLINE_MS = { local: 10_000, join: 60_000 };

/** The CLI's way to the agent's ClusterService (budgie.v1 over the agent's unix socket). */
export class ClusterClient {
  private readonly cluster: ClusterServiceClient;
  private readonly mapError: ErrorMapper;

  constructor(readonly socket: string) {
    this.cluster = new ClusterServiceClient(`unix://${socket}`, credentials.createInsecure());
    this.mapError = errorMapper(
      () =>
        new UnavailableError(
          `no Budgie agent answers at ${socket}: start one with 'budgie agent' (as root), ` +
            `or point --socket or BUDGIE_SOCKET at a running one`,
        ),
    );
  }

  init(): Promise<InitResponse> {
    return unary(this.mapError, (done) =>
      this.cluster.init({}, new Metadata(), deadline(DEADLINE_MS.local), done),
    );
  }

  /** The join token; `ttlMs` (not 0) makes a new one that expires then. */
  token(rotate: boolean, ttlMs = 0): Promise<TokenResponse> {
    return unary<TokenResponse>(this.mapError, (done) =>
      this.cluster.token({ rotate, ttlMs }, new Metadata(), deadline(DEADLINE_MS.local), done),
    );
  }

  /** `peer` empty: the agent looks for a member by mDNS. */
  join(token: string, peer: string): Promise<JoinResponse> {
    return unary(this.mapError, (done) =>
      this.cluster.join({ token, peer }, new Metadata(), deadline(DEADLINE_MS.join), done),
    );
  }

  nodes(): Promise<NodesResponse> {
    return unary(this.mapError, (done) =>
      this.cluster.nodes({}, new Metadata(), deadline(DEADLINE_MS.local), done),
    );
  }

  /** Leaves the cluster; resolves to how many members heard it. */
  async leave(force = false): Promise<number> {
    const res = await unary<LeaveResponse>(this.mapError, (done) =>
      this.cluster.leave({ force }, new Metadata(), deadline(DEADLINE_MS.local), done),
    );
    return res.membersTold;
  }

  /** Removes another member (on the CA holder); resolves to its node id. */
  async remove(node: string): Promise<string> {
    const res = await unary<RemoveResponse>(this.mapError, (done) =>
      this.cluster.remove({ node }, new Metadata(), deadline(DEADLINE_MS.local), done),
    );
    return res.nodeId;
  }

  close(): void {
    this.cluster.close();
  }
}

function deadline(ms: number): { deadline: number } {
  return { deadline: Date.now() + ms };
}
