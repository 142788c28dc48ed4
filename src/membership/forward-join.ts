import { FailedPreconditionError, messageOf, PermissionDeniedError } from '../errors';
import type { Logger } from '../log';
import type { MemberView } from './types';

/**
 * Hands a join this node received (its nonce already taken here) to the member that holds the
 * cluster CA key. Members do not know which one that is; clusters are small, so each alive member
 * is asked in turn, and any but the holder says FAILED_PRECONDITION. A refused proof is final.
 * The join is passed on as it came: only the key holder reads it.
 */
export async function forwardJoin<Req, Res>(
  members: readonly MemberView[],
  dial: (member: MemberView) => { admit(req: Req, options: { timeoutMs: number }): Promise<Res> },
  req: Req,
  timeoutMs: number,
  log: Logger,
): Promise<Res> {
  for (const member of members.filter((m) => m.state === 'alive')) {
    try {
      return await dial(member).admit(req, { timeoutMs });
    } catch (err) {
      if (err instanceof PermissionDeniedError) throw err;
      if (!(err instanceof FailedPreconditionError)) {
        log.warn('could not forward a join', { member: member.name, err: messageOf(err) });
      }
    }
  }
  throw new FailedPreconditionError(
    'join: no member that holds the cluster CA key (the node that ran budgie cluster init) is reachable from this one; join through it, or try again when it is up',
  );
}
