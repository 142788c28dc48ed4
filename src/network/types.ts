/** What the orchestrator needs to start a replica inside its network namespace. */
export interface ReplicaNetwork {
  replicaId: string;
  /** The bind-mounted network namespace, for the OCI spec's `linux.namespaces` network path. */
  netnsPath: string;
  /** The replica's IPv4 address, without prefix length ("10.213.0.2"). */
  ip: string;
  prefixLength: number;
  /** The bridge's address: the replica's default route and the host side of the network. */
  gateway: string;
  /** The interface name inside the namespace ("eth0"). */
  interface: string;
  /** The host bridge the replica is plugged into. */
  bridge: string;
}

/**
 * Per-replica networking. Every method is safe to call again after a crash of the agent: state
 * lives on disk (the state dir and named network namespaces), not in memory.
 */
export interface Network {
  /**
   * Creates the replica's network namespace and plugs it into the node's bridge. Calling it again
   * for an attached replica returns the same network; a half-done earlier attach is undone first.
   * On failure (or abort) nothing is left behind that `detach` would need to release.
   */
  attach(replicaId: string, signal?: AbortSignal): Promise<ReplicaNetwork>;
  /** Releases the replica's address and removes its namespace. Idempotent. */
  detach(replicaId: string): Promise<void>;
  /** Replicas that hold network state on this node (to release leaks when the agent starts). */
  list(): Promise<string[]>;
}
