import { Revocations } from '../trust';
import type { MembershipClient } from './membership-client';
import type { LeaveHandling } from './membership-service';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { MemberView } from './types';

/**
 * The members that left, for one membership: persisted (see Revocations), refused by the peer
 * server, never heartbeated again, and passed on to other members through Hello answers, so a
 * member that was away when a node left learns of it at its next heartbeat.
 */
export class LeftMembers implements LeaveHandling {
  private constructor(
    private readonly revocations: Revocations,
    private readonly selfNodeId: string,
    private readonly log: Logger,
    private readonly onLeft: (nodeId: string) => void,
  ) {}

  /** `onLeft` is told of each node id once, when it is first known to have left. */
  static async open(
    clusterDir: string,
    selfNodeId: string,
    log: Logger,
    onLeft: (nodeId: string) => void,
  ): Promise<LeftMembers> {
    return new LeftMembers(await Revocations.open(clusterDir), selfNodeId, log, onLeft);
  }

  has(nodeId: string): boolean {
    return this.revocations.has(nodeId);
  }

  revoked(): string[] {
    return this.revocations.list();
  }

  onLeave(nodeId: string): Promise<void> {
    return this.add([nodeId]);
  }

  /** Adds what a member's Hello answer says; failures are logged, the next answer retries. */
  async add(nodeIds: readonly string[]): Promise<void> {
    let added: string[];
    try {
      added = await this.revocations.add(nodeIds, this.selfNodeId);
    } catch (err) {
      this.log.warn('could not record members that left', { err: messageOf(err) });
      return;
    }
    for (const nodeId of added) {
      this.onLeft(nodeId);
      this.log.info('member left the cluster; its certificate is no longer trusted', {
        node: nodeId.slice(0, 12),
      });
    }
  }
}

/**
 * Tells every member that is not dead that this node leaves, at once and each within
 * `timeoutMs`; returns how many heard it. One that did not hears it from the others' heartbeats.
 */
export async function announceLeave(
  members: readonly MemberView[],
  dial: (member: MemberView) => Pick<MembershipClient, 'leave'>,
  timeoutMs: number,
  log: Logger,
): Promise<number> {
  const told = await Promise.all(
    members
      .filter((m) => m.state !== 'dead')
      .map((m) =>
        dial(m)
          .leave({ timeoutMs })
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
