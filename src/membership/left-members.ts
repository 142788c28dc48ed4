import { X509Certificate } from 'node:crypto';
import {
  checkLeave,
  Revocations,
  type LeaveProof,
  type NodeIdentity,
  type Refused,
} from '../trust';
import type { MembershipClient } from './membership-client';
import type { LeaveHandling } from './membership-service';
import { InvalidInputError, messageOf } from '../errors';
import type { Logger } from '../log';
import type { MemberView } from './types';

/** A member's Hello answer carries at most this many proofs this node checks (ECDSA each). */
const MAX_CHECKED_PER_ANSWER = 32;
/** Proofs already refused, not checked (nor logged) again when the same member repeats them. */
const MAX_REMEMBERED_REFUSALS = 256;

/**
 * The members that left, for one membership: persisted (see Revocations), refused by the peer
 * server, never heartbeated again, and passed on to other members through Hello answers, so a
 * member that was away when a node left learns of it at its next heartbeat. Each comes with the
 * leaving node's own signed word for it, checked here before it counts: a member that answers
 * with revocations of others (to cut them off) is logged and ignored.
 */
export class LeftMembers implements LeaveHandling {
  private readonly refusals = new Set<string>();

  private constructor(
    private readonly revocations: Revocations,
    private readonly selfNodeId: string,
    private readonly log: Logger,
    private readonly onLeft: (nodeId: string) => void,
  ) {}

  /** `onLeft` is told of each node id once, when it is first known to have left. */
  static async open(
    clusterDir: string,
    identity: Pick<NodeIdentity, 'nodeId' | 'clusterId' | 'caCertPem'>,
    log: Logger,
    onLeft: (nodeId: string) => void,
  ): Promise<LeftMembers> {
    const ca = new X509Certificate(identity.caCertPem);
    const { revocations, dropped } = await Revocations.open(clusterDir, (proof) =>
      checkLeave(proof, ca, identity.clusterId),
    );
    for (const { nodeId, why } of dropped) {
      log.warn('dropped a stored revocation that is not a signed leave', {
        node: nodeId.slice(0, 12),
        why,
      });
    }
    return new LeftMembers(revocations, identity.nodeId, log, onLeft);
  }

  has(nodeId: string): boolean {
    return this.revocations.has(nodeId);
  }

  revoked(): LeaveProof[] {
    return this.revocations.list();
  }

  /** A member said itself that it leaves; its proof must be its own. */
  async onLeave(nodeId: string, proof: LeaveProof | undefined): Promise<void> {
    if (proof?.nodeId !== nodeId) {
      throw new InvalidInputError(
        'proof: a member that leaves signs its own leave (budgie cluster leave on that node)',
      );
    }
    const { refused } = await this.add([proof], nodeId);
    const [first] = refused;
    if (first !== undefined) throw new InvalidInputError(`proof: ${first.why}`);
  }

  /**
   * Adds what a member's Hello answer says, each proof checked; refusals are logged (once per
   * proof) and dropped. Failures to store are logged, the next answer retries.
   */
  async add(proofs: readonly LeaveProof[], from: string): Promise<{ refused: Refused[] }> {
    const fresh = proofs
      .filter((p) => !this.revocations.has(p.nodeId) && !this.refusals.has(keyOf(p)))
      .slice(0, MAX_CHECKED_PER_ANSWER);
    if (fresh.length === 0) return { refused: [] };
    let result: { added: string[]; refused: Refused[] };
    try {
      result = await this.revocations.add(fresh, this.selfNodeId);
    } catch (err) {
      this.log.warn('could not record members that left', { err: messageOf(err) });
      return { refused: [] };
    }
    for (const proof of fresh) {
      if (result.added.includes(proof.nodeId)) continue;
      if (this.refusals.size >= MAX_REMEMBERED_REFUSALS) this.refusals.clear();
      this.refusals.add(keyOf(proof));
    }
    for (const { nodeId, why } of result.refused) {
      this.log.warn('refused a revocation a member passed on: not a signed leave', {
        node: nodeId.slice(0, 12),
        from: from.slice(0, 12),
        why,
      });
    }
    for (const nodeId of result.added) {
      this.onLeft(nodeId);
      this.log.info('member left the cluster; its certificate is no longer trusted', {
        node: nodeId.slice(0, 12),
      });
    }
    return { refused: result.refused };
  }
}

function keyOf(proof: LeaveProof): string {
  return `${proof.nodeId.slice(0, 64)} ${proof.signature.toString('base64').slice(0, 200)}`;
}

/**
 * Tells every member that is not dead that this node leaves, at once and each within
 * `timeoutMs`; returns how many heard it. One that did not hears it from the others' heartbeats.
 */
export async function announceLeave(
  members: readonly MemberView[],
  dial: (member: MemberView) => Pick<MembershipClient, 'leave'>,
  proof: LeaveProof,
  timeoutMs: number,
  log: Logger,
): Promise<number> {
  const told = await Promise.all(
    members
      .filter((m) => m.state !== 'dead')
      .map((m) =>
        dial(m)
          .leave(proof, { timeoutMs })
          .then(
            () => 1,
            (err: unknown) => {
              log.warn('could not tell a member this node leaves', {
                member: m.name,
                err: messageOf(err),
              });
              return 0;
            },
          ),
      ),
  );
  return told.reduce((a: number, b: number) => a + b, 0);
}
