import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  ClusterIdentity,
  isNodeId,
  parseToken,
  signLeave,
  signRemoval,
  type Joined,
  type NodeIdentity,
} from '../trust';
import { PeerChannel, type PeerServer, type ServiceBinding } from '../peer';
import type { ClusterConfig } from '../config/cluster-config';
import {
  MdnsAdvertiser,
  MdnsBrowser,
  PROTOCOL_VERSION,
  StaticPeers,
  openMulticastTransport,
  systemClock,
  type Clock,
  type MdnsPeer,
  type MdnsTransport,
} from '../discovery';
import {
  ConflictError,
  FailedPreconditionError,
  InvalidInputError,
  messageOf,
  NotFoundError,
} from '../errors';
import type { KnownMember } from '../trust';
import type { Logger } from '../log';
import { formatHostPort, parseHostPort } from '../host-port';
import { findMembers } from './find-member';
import { forwardJoin } from './forward-join';
import { MembershipClient } from './membership-client';
import { memberServer } from './member-server';
import { announceLeave, LeftMembers } from './left-members';
import { MemberTable } from './member-table';
import { peerDialer } from './peer-prober';
import type { MemberView } from './types';

export interface ClusterNodeOptions {
  stateDir: string;
  nodeName: string;
  config: ClusterConfig;
  log: Logger;
  clock?: Clock;
  /** How long a join without --peer looks for a member by mDNS. */
  findTimeoutMs?: number;
  /** More members-only peer services (replicas, ...), served while this node is a member. */
  peerServices?: (identity: () => NodeIdentity) => readonly ServiceBinding[];
}

/** A row of `budgie cluster nodes`: a member, or this node itself. */
export interface NodeRow extends MemberView {
  self: boolean;
}

/** Advert TTL: short enough that a killed node's advert goes within half a minute. */
const ADVERT_TTL_SECONDS = 30;
const SERVER_GRACE_MS = 1000;
/** How long each member has to take note that this node leaves. */
const LEAVE_NOTICE_MS = 2000;
/** How long the CA holder has to admit a join this node forwards. */
const FORWARD_JOIN_MS = 10_000;

/**
 * This node's part in a cluster, for the agent: its identity, the peer API while it is a member,
 * its mDNS advert (always; the cluster id only while a member), the browser and static peers
 * feeding the member table. init, join and leave run one at a time and re-announce the advert.
 */
export class ClusterNode {
  private readonly identity: ClusterIdentity;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly port: number;
  /** The advert's node id while this node is in no cluster (it has no key yet). */
  private readonly anonymousId = randomBytes(8).toString('hex');
  private readonly statics: StaticPeers;
  private transport: MdnsTransport | undefined;
  private advertiser: MdnsAdvertiser | undefined;
  private browser: MdnsBrowser | undefined;
  private server: PeerServer | undefined;
  private table: MemberTable | undefined;
  private left: LeftMembers | undefined;
  private readonly channels = new Map<string, PeerChannel>();
  private member: NodeIdentity | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ClusterNodeOptions) {
    this.identity = new ClusterIdentity({ stateDir: options.stateDir });
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    this.port = parseHostPort(options.config.listen, '--listen').port;
    this.statics = StaticPeers.parse(options.config.peers);
  }

  /** Loads the identity, serves the peer API when a member, and starts mDNS. */
  start(): Promise<void> {
    return this.serial(async () => {
      const identity = await this.identity.load();
      if (this.options.config.mdns) await this.startMdns();
      if (identity !== undefined) await this.becomeMember(identity);
      await this.advertise();
    });
  }

  init(): Promise<{ token: string; identity: NodeIdentity; address: string }> {
    return this.serial(async () => {
      const { identity, token } = await this.identity.init(this.facts());
      await this.becomeMember(identity);
      await this.advertise();
      this.log.info('created a cluster', { cluster: identity.clusterId.slice(0, 12) });
      return { token, identity, address: this.selfAddress() };
    });
  }

  token(rotate: boolean, ttlMs?: number): Promise<{ token: string; expiresAtMs?: number }> {
    return this.identity.token({ rotate, ...(ttlMs !== undefined && { ttlMs }) });
  }

  /** Joins through `peer` (HOST:PORT), or a member found by mDNS when it is empty. */
  join(
    tokenText: string,
    peer: string,
    signal?: AbortSignal,
  ): Promise<{ identity: NodeIdentity; peer: string }> {
    return this.serial(async () => {
      const token = parseToken(tokenText);
      if (this.member !== undefined) {
        throw new ConflictError(
          `this node is already in cluster ${this.member.clusterId.slice(0, 12)}; run 'budgie cluster leave' first`,
        );
      }
      const candidates =
        peer !== '' ? [peer] : await this.find(token.caFingerprint.toString('hex'), signal);
      const { joined, via } = await this.joinThrough(tokenText, candidates, signal);
      await this.becomeMember(joined.identity);
      this.table?.add({ address: via });
      for (const m of joined.members) {
        if (m.address !== '') this.table?.add({ address: m.address, nodeId: m.nodeId });
      }
      await this.advertise();
      this.log.info('joined a cluster', { cluster: joined.identity.clusterId.slice(0, 12), via });
      return { identity: joined.identity, peer: via };
    });
  }

  /**
   * Leaves the cluster, telling the members first; returns how many heard it. The CA holder is
   * refused unless `force` while other members remain: its key goes with it, and with the key
   * every future join (as Swarm refuses its last manager).
   */
  leave(force = false): Promise<number> {
    return this.serial(async () => {
      const others = (this.table?.members() ?? []).filter((m) => m.state !== 'dead').length;
      if (!force && this.member?.signer !== undefined && others > 0) {
        throw new FailedPreconditionError(
          `this node holds the cluster CA key: once it leaves, no node can join the cluster any more (${others} other member(s) remain); leave with --force to do it anyway`,
        );
      }
      const told = await announceLeave(
        this.table?.members() ?? [],
        (m) => new MembershipClient(this.dial(m.address, m.nodeId)),
        signLeave(this.identity.current()),
        LEAVE_NOTICE_MS,
        this.log,
      );
      await this.stopMember();
      await this.identity.leave();
      await this.advertise();
      this.log.info('left the cluster', { told });
      return told;
    });
  }

  /**
   * Removes another member for good, on the node that holds the CA key: a removal signed with
   * the CA key, which every member checks and passes on like a leave (a dead or stolen machine
   * cannot leave by itself). `target`: a node id, a unique prefix of one, or a member's name.
   * Returns the node id.
   */
  remove(target: string): Promise<string> {
    return this.serial(async () => {
      const identity = this.requireMember();
      if (identity.signer === undefined || this.left === undefined) {
        throw new FailedPreconditionError(
          "only the node that holds the cluster CA key (the one that ran 'budgie cluster init') can remove a member",
        );
      }
      const nodeId = this.nodeIdOf(target);
      if (nodeId === identity.nodeId) {
        throw new InvalidInputError("node: this node itself; use 'budgie cluster leave'");
      }
      const { refused } = await this.left.add(
        [signRemoval(identity.signer.caKeyPem, identity.clusterId, nodeId)],
        identity.nodeId,
      );
      const [first] = refused;
      if (first !== undefined) throw new FailedPreconditionError(`remove: ${first.why}`);
      this.log.info('removed a member', { node: nodeId.slice(0, 12) });
      return nodeId;
    });
  }

  /** A member's node id from its id, a unique prefix of it, or its name. */
  private nodeIdOf(target: string): string {
    const members = this.table?.members() ?? [];
    const matches = members.filter(
      (m) =>
        m.nodeId === target ||
        m.name === target ||
        (target.length >= 4 && m.nodeId.startsWith(target)),
    );
    const ids = [...new Set(matches.map((m) => m.nodeId))];
    if (ids.length > 1) {
      throw new InvalidInputError(
        `node: ${target} names ${ids.length} members (${ids.map((id) => id.slice(0, 12)).join(', ')}); give more of the id`,
      );
    }
    const [id] = ids;
    if (id !== undefined) return id;
    // A member long forgotten: its full id still removes it.
    if (isNodeId(target)) return target;
    throw new NotFoundError(
      `node: no member ${target} (see 'budgie cluster nodes', or give its full id)`,
    );
  }

  /** This node (first) and the members it heartbeats; undefined when it is in no cluster. */
  nodes(): { clusterId: string; rows: NodeRow[] } | undefined {
    const self = this.member;
    if (self === undefined) return undefined;
    const rows: NodeRow[] = [
      {
        nodeId: self.nodeId,
        name: self.nodeName,
        address: this.selfAddress(),
        state: 'alive',
        lastSeenMs: this.clock.now(),
        self: true,
      },
      ...(this.table?.members() ?? []).map((m) => ({ ...m, self: false })),
    ];
    return { clusterId: self.clusterId, rows };
  }

  /** This node's id while it is a member. */
  selfNodeId(): string | undefined {
    return this.member?.nodeId;
  }

  /** HOST:PORT of a member's peer API; undefined when it is not (or no longer) known. */
  addressOf(nodeId: string): string | undefined {
    return this.table?.members().find((m) => m.nodeId === nodeId)?.address;
  }

  requireMember(): NodeIdentity {
    return this.identity.current();
  }

  /**
   * The peer channel to a member, with this node's certificate; every service's client rides on
   * it. One per member, kept until the membership stops: the fleet's polls, chirps, logs, joins
   * and image pulls share its TLS connection instead of paying a handshake per call. Callers do
   * not close it.
   */
  dial(address: string, expectedNodeId?: string): PeerChannel {
    const key = `${expectedNodeId ?? ''}@${address}`;
    let channel = this.channels.get(key);
    if (channel === undefined) {
      channel = new PeerChannel(this.identity.current(), parseHostPort(address), expectedNodeId);
      this.channels.set(key, channel);
    }
    return channel;
  }

  /**
   * Closes the pooled channels of a member that answers again after a silence: their connection
   * may still hang on TCP's resend timer (see reconnectingProber), and a new one reaches the
   * member at once. Done once it is back rather than when it went silent, so that the close
   * itself reaches it and leaves nothing half-open on its side.
   */
  private forgetChannels(address: string): void {
    for (const [key, channel] of this.channels) {
      if (!key.endsWith(`@${address}`)) continue;
      channel.close();
      this.channels.delete(key);
    }
  }

  close(): Promise<void> {
    return this.serial(async () => {
      await this.stopMember();
      await this.advertiser?.close();
      await this.browser?.close();
      await this.statics.close();
      await this.transport?.close();
    });
  }

  /**
   * Tries the candidates in turn: only the node that ran init holds the CA key, and mDNS cannot
   * tell which one that is, so a member that cannot admit is skipped. Any other refusal (a wrong
   * token) is final: trying it elsewhere would be refused the same way.
   */
  private async joinThrough(
    tokenText: string,
    candidates: string[],
    signal?: AbortSignal,
  ): Promise<{ joined: Joined; via: string }> {
    let cannotAdmit: unknown;
    for (const via of candidates) {
      try {
        return {
          joined: await this.identity.join(tokenText, via, { ...this.facts(), signal }),
          via,
        };
      } catch (err) {
        if (!(err instanceof FailedPreconditionError) || candidates.length === 1) throw err;
        cannotAdmit = err;
      }
    }
    throw cannotAdmit;
  }

  private async find(clusterId: string, signal?: AbortSignal): Promise<string[]> {
    if (this.browser === undefined) {
      throw new FailedPreconditionError(
        'join: mDNS is off on this agent (--mdns off); give a member with --peer HOST:PORT',
      );
    }
    return findMembers(this.browser, clusterId, this.options.findTimeoutMs ?? 5000, signal);
  }

  private async startMdns(): Promise<void> {
    const { config } = this.options;
    const log = this.log.child({ component: 'mdns' });
    try {
      this.transport = await openMulticastTransport({
        log,
        ...(config.advertiseGiven && { interfaceAddress: config.advertise }),
      });
    } catch (err) {
      // Discovery is a convenience: static peers and --peer still work without it.
      this.log.warn('mDNS is unavailable; only static peers will be dialled', {
        error: messageOf(err),
      });
      return;
    }
    this.browser = new MdnsBrowser(this.transport, { log, clock: this.clock });
    this.browser.on('found', (p) => {
      this.offer(p);
    });
    this.browser.on('updated', (p) => {
      this.offer(p);
    });
    this.browser.start();
  }

  /** An mDNS peer is dialled only when it claims our cluster; the TLS handshake checks the claim. */
  private offer(peer: MdnsPeer): void {
    const host = peer.addresses[0];
    if (this.member === undefined || peer.clusterId !== this.member.clusterId) return;
    if (host === undefined || peer.nodeId === this.member.nodeId) return;
    this.table?.add({
      address: formatHostPort({ host, port: peer.port }),
      nodeId: peer.nodeId,
      name: peer.name,
    });
  }

  /** (Re)announces the advert: close sends a goodbye, so browsers drop the old one at once. */
  private async advertise(): Promise<void> {
    if (this.transport === undefined) return;
    const nodeId = this.member?.nodeId ?? this.anonymousId;
    const clusterId = this.member?.clusterId;
    const current = this.advertiser?.current;
    if (current?.nodeId === nodeId && current.clusterId === clusterId) return;
    await this.advertiser?.close();
    const advertise = this.options.config.advertise;
    this.advertiser = new MdnsAdvertiser(this.transport, {
      advert: { nodeId, clusterId, name: this.options.nodeName, version: PROTOCOL_VERSION },
      port: this.port,
      addresses: () => [advertise],
      ttlSeconds: ADVERT_TTL_SECONDS,
      log: this.log.child({ component: 'mdns' }),
      clock: this.clock,
    });
    await this.advertiser.start();
  }

  private async becomeMember(identity: NodeIdentity): Promise<void> {
    await this.stopMember();
    const log = this.log.child({ component: 'peer' });
    const current = (): NodeIdentity => this.identity.current();
    const left = await LeftMembers.open(
      join(this.options.stateDir, 'cluster'),
      identity,
      this.log.child({ component: 'membership' }),
      (nodeId) => {
        const address = this.addressOf(nodeId);
        this.table?.forget(nodeId);
        if (address !== undefined) this.forgetChannels(address);
      },
    );
    this.left = left;
    const server = memberServer({
      leaving: left,
      forwardJoin: (req) =>
        forwardJoin(
          this.table?.members() ?? [],
          (m) => new MembershipClient(this.dial(m.address, m.nodeId)),
          req,
          FORWARD_JOIN_MS,
          log,
        ),
      identity: current,
      services: this.options.peerServices?.(current) ?? [],
      log,
      members: () => this.joinMembers(),
      onHello: (caller) => {
        if (caller.address !== '' && isHostPort(caller.address)) {
          this.table?.add({ address: caller.address, nodeId: caller.nodeId });
        }
      },
    });
    await server.start(this.options.config.listen);
    this.server = server;
    this.member = identity;
    const { heartbeatMs, suspectAfterMs, deadAfterMs, forgetAfterMs } = this.options.config;
    this.table = new MemberTable({
      selfNodeId: identity.nodeId,
      clusterId: identity.clusterId,
      dial: peerDialer(identity, this.selfAddress()),
      timings: { heartbeatMs, suspectAfterMs, deadAfterMs, forgetAfterMs },
      clock: this.clock,
      log: this.log.child({ component: 'membership' }),
      onState: (address, state, was) => {
        if (state === 'alive' && was !== undefined) this.forgetChannels(address);
      },
      isRevoked: (nodeId) => left.has(nodeId),
      onRevoked: (proofs, from) => {
        void left.add(proofs, from);
      },
    });
    this.table.start();
    for (const p of this.statics.peers()) this.table.add({ address: p.key, pinned: true });
    for (const p of this.browser?.peers() ?? []) this.offer(p);
    log.info('peer API listening', { listen: this.options.config.listen });
  }

  private async stopMember(): Promise<void> {
    this.table?.close();
    this.table = undefined;
    this.left = undefined;
    this.member = undefined;
    // The channels carry the old certificate: a later membership dials afresh.
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
    await this.server?.stop(SERVER_GRACE_MS);
    this.server = undefined;
  }

  /** What a joiner is told to dial next: this node and the members alive now. */
  private joinMembers(): KnownMember[] {
    const rows = this.nodes()?.rows ?? [];
    return rows
      .filter((r) => r.state === 'alive')
      .map((r) => ({ nodeId: r.nodeId, nodeName: r.name, address: r.address }));
  }

  private selfAddress(): string {
    return formatHostPort({ host: this.options.config.advertise, port: this.port });
  }

  private facts(): { nodeName: string; addresses: string[] } {
    return { nodeName: this.options.nodeName, addresses: [this.options.config.advertise] };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function isHostPort(text: string): boolean {
  try {
    parseHostPort(text);
    return true;
  } catch {
    return false;
  }
}
