import { randomBytes, X509Certificate } from 'node:crypto';
import { join as joinPath } from 'node:path';
import { ConflictError, FailedPreconditionError } from '../errors';
import { parseHostPort } from '../host-port';
import { base32Encode } from './base32';
import { createCa } from './ca';
import { ClusterStore, type ClusterFs, type StoredCluster } from './cluster-store';
import { identityOf, type NodeIdentity, type Signer } from './identity';
import { sha256 } from './ids';
import { requestJoin, type KnownMember } from './join-client';
import { deriveTokenSecret, verifierOf, type TokenVerifier } from './join-proof';
import { checkAddresses, checkNodeName } from './names';
import { createCsr, createNodeKey, signNodeCertificate } from './node-cert';
import type { CallOptions } from '../rpc/peer-calls';
import { formatToken, parseToken, TOKEN_ID_BYTES } from './token';

export interface ClusterIdentityOptions {
  /** The agent's state dir; the cluster files live in `<stateDir>/cluster`. */
  stateDir: string;
  now?: () => number;
  fs?: ClusterFs;
}

export interface NodeFacts {
  /** A name for people, usually the hostname. */
  nodeName: string;
  /** IP addresses peers reach this node at; they go into its certificate. */
  addresses?: readonly string[];
}

export interface Joined {
  identity: NodeIdentity;
  /** Members named by the admitting node, to dial next. */
  members: KnownMember[];
}

/**
 * This node's membership, as the agent sees it: create a cluster, print or rotate its join token,
 * join one with a token, load what is on disk, leave. Operations run one at a time.
 */
export class ClusterIdentity {
  private readonly store: ClusterStore;
  private readonly now: () => number;
  private loaded: NodeIdentity | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ClusterIdentityOptions) {
    this.store = new ClusterStore(joinPath(options.stateDir, 'cluster'), options.fs);
    this.now = options.now ?? Date.now;
  }

  /** The identity on disk, checked; undefined when this node is in no cluster. */
  load(): Promise<NodeIdentity | undefined> {
    return this.serial(() => this.loadNow());
  }

  /** The identity loaded last, for servers that ask on every call. */
  current(): NodeIdentity {
    if (this.loaded === undefined) throw notMember();
    return this.loaded;
  }

  /** Creates a cluster with this node as its first member (and its CA holder); returns its token. */
  init(facts: NodeFacts): Promise<{ identity: NodeIdentity; token: string }> {
    return this.serial(async () => {
      await this.refuseIfMember();
      const nodeName = checkNodeName(facts.nodeName);
      const addresses = checkAddresses(facts.addresses ?? []);
      const ca = await createCa(this.now());
      const nodeKeyPem = await createNodeKey();
      const csrDer = await createCsr(nodeKeyPem, nodeName);
      const signed = await signNodeCertificate(ca, {
        csrDer,
        nodeName,
        addresses,
        now: this.now(),
      });
      const tokenId = newTokenId();
      const identity = await this.save({
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        nodeKeyPem,
        nodeCertPem: signed.certPem,
        verifier: verifierOf(deriveTokenSecret(ca.keyPem, tokenId), tokenId),
      });
      return { identity, token: this.tokenOf(identity, signerOf(identity)) };
    });
  }

  /**
   * The join token again, or (`rotate`) a new one that replaces it at once; with `ttlMs`, a new
   * one that is refused from `now + ttlMs` on. Returns it with its expiry, if any.
   */
  token(
    options: { rotate?: boolean; ttlMs?: number; now?: number } = {},
  ): Promise<{ token: string; expiresAtMs?: number }> {
    return this.serial(async () => {
      const identity = await this.loadNow();
      if (identity === undefined) throw notMember();
      let signer = signerOf(identity);
      if (options.rotate === true || options.ttlMs !== undefined) {
        const tokenId = newTokenId();
        const verifier: TokenVerifier = {
          ...verifierOf(deriveTokenSecret(signer.caKeyPem, tokenId), tokenId),
          ...(options.ttlMs !== undefined && {
            expiresAtMs: (options.now ?? Date.now()) + options.ttlMs,
          }),
        };
        await this.store.writeVerifier(verifier);
        signer = { ...signer, verifier };
        this.loaded = { ...identity, signer };
      }
      const { expiresAtMs } = signer.verifier;
      return {
        token: this.tokenOf(identity, signer),
        ...(expiresAtMs !== undefined && { expiresAtMs }),
      };
    });
  }

  /** Joins the cluster named by `tokenText` through the member at `peer` (HOST:PORT). */
  join(tokenText: string, peer: string, facts: NodeFacts & CallOptions): Promise<Joined> {
    return this.serial(async () => {
      const token = parseToken(tokenText);
      const peerAddress = parseHostPort(peer, '--peer');
      const nodeName = checkNodeName(facts.nodeName);
      const addresses = checkAddresses(facts.addresses ?? []);
      await this.refuseIfMember();
      const nodeKeyPem = await createNodeKey();
      const admission = await requestJoin({
        token,
        peer: peerAddress,
        nodeKeyPem,
        nodeName,
        addresses,
        signal: facts.signal,
        timeoutMs: facts.timeoutMs,
      });
      const identity = await this.save({
        caCertPem: admission.caCertPem,
        nodeKeyPem,
        nodeCertPem: admission.nodeCertPem,
      });
      return { identity, members: admission.members };
    });
  }

  /** Forgets the membership and every key. Leaving when in no cluster is not an error. */
  leave(): Promise<void> {
    return this.serial(async () => {
      await this.store.remove();
      this.loaded = undefined;
    });
  }

  private async loadNow(): Promise<NodeIdentity | undefined> {
    const stored = await this.store.read();
    this.loaded = stored === undefined ? undefined : this.check(stored);
    return this.loaded;
  }

  private async save(stored: StoredCluster): Promise<NodeIdentity> {
    const identity = this.check(stored);
    await this.store.write(stored);
    this.loaded = identity;
    return identity;
  }

  private check(stored: StoredCluster): NodeIdentity {
    const identity = identityOf(stored);
    if (typeof identity === 'string') throw this.store.damaged(identity);
    return identity;
  }

  private async refuseIfMember(): Promise<void> {
    const identity = await this.loadNow();
    if (identity !== undefined) {
      throw new ConflictError(
        `this node is already in cluster ${identity.clusterId.slice(0, 12)}; run 'budgie cluster leave' first`,
      );
    }
  }

  private tokenOf(identity: NodeIdentity, signer: Signer): string {
    const tokenId = signer.verifier.tokenId;
    return formatToken({
      caFingerprint: sha256(new X509Certificate(identity.caCertPem).raw),
      id: tokenId,
      secret: deriveTokenSecret(signer.caKeyPem, tokenId),
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function newTokenId(): string {
  return base32Encode(randomBytes(TOKEN_ID_BYTES));
}

function signerOf(identity: NodeIdentity): Signer {
  if (identity.signer === undefined) {
    throw new FailedPreconditionError(
      'token: this node does not hold the cluster CA key; ask the node that ran budgie cluster init',
    );
  }
  return identity.signer;
}

function notMember(): FailedPreconditionError {
  return new FailedPreconditionError(
    "this node is not in a cluster; run 'budgie cluster init' or 'budgie cluster join TOKEN'",
  );
}
