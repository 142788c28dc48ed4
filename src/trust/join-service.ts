import { X509Certificate } from 'node:crypto';
import {
  JoinServiceService,
  type JoinRequest,
  type JoinResponse,
  type JoinServiceServer,
  type Member,
} from '../gen/budgie/peer/v1/peer';
import { FailedPreconditionError, PermissionDeniedError } from '../errors';
import type { Logger } from '../log';
import type { ChallengeStore } from './challenges';
import { unary, type ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from './identity';
import { shortId } from './ids';
import { verifyProof } from './join-proof';
import { signNodeCertificate } from './node-cert';
import { checkTokenId } from './token';

export const JOIN_SERVICE_NAME = 'budgie.peer.v1.JoinService';

/** Hands a join to the member that holds the CA key (on a member without it). */
export type ForwardJoin = (req: JoinRequest) => Promise<JoinResponse>;

export interface JoinServiceOptions {
  /** Asked on every call: the token may be rotated while the server runs. */
  identity: () => NodeIdentity;
  challenges: ChallengeStore;
  now: () => number;
  /** The members a new node should know about; this node alone when not given. */
  members?: () => Member[];
  /**
   * On a member without the CA key: hands a join (its nonce already taken here) to a member that
   * holds the key (see `admitter`). Without it, such a member refuses joins.
   */
  forward?: ForwardJoin;
  log: Logger;
}

/** One message for every bad proof: which part was wrong is of use only to someone guessing. */
const REFUSED =
  'join: token refused (it is wrong, or it was rotated: ask a member for the current one)';

/**
 * The only service open to callers without a cluster certificate. A joiner gets a nonce, then
 * sends a CSR with a proof over that nonce; a good proof earns a node certificate for the CSR's
 * key. The nonce is consumed before the proof is checked, so every proof is good at most once.
 * Any member takes joins: one without the CA key consumes the nonce itself and forwards the rest
 * to the CA holder, which checks the proof and signs.
 */
export function joinService(options: JoinServiceOptions): ServiceBinding {
  const { challenges, log } = options;
  const admit = admitter(options);
  const implementation: JoinServiceServer = {
    getChallenge: unary(log, 'GetChallenge', (_req, _signal, call) => {
      if (options.forward === undefined) signerOrRefuse(options.identity());
      return Promise.resolve({ nonce: challenges.issue(sourceOf(call.getPeer())) });
    }),
    join: unary(log, 'Join', async (req) => {
      const identity = options.identity();
      if (identity.signer === undefined && options.forward === undefined) {
        signerOrRefuse(identity);
      }
      checkTokenId(req.tokenId);
      if (!challenges.consume(req.nonce)) {
        throw new PermissionDeniedError(
          'join: the challenge is unknown, expired or already used; ask for a new one',
        );
      }
      if (identity.signer !== undefined || options.forward === undefined) return admit(req);
      log.info('forwarding a join to the CA holder', { name: req.nodeName });
      return options.forward(req);
    }),
  };
  return { definition: JoinServiceService, implementation };
}

/**
 * The CA holder's half of a join: checks the proof over the transcript (with the nonce the
 * receiving member took) and signs the CSR. Reached directly from JoinService, or from a member
 * that forwards a join (MembershipService.Admit, members only): that member vouches for the
 * nonce; the proof still needs the token, and the certificate is only good with the CSR's key.
 */
export function admitter(
  options: Pick<JoinServiceOptions, 'identity' | 'now' | 'members' | 'log'>,
): (req: JoinRequest) => Promise<JoinResponse> {
  return async (req) => {
    const identity = options.identity();
    const signer = signerOrRefuse(identity);
    checkTokenId(req.tokenId);
    const transcript = {
      clusterId: identity.clusterId,
      tokenId: req.tokenId,
      nonce: req.nonce,
      csrDer: req.csr,
      nodeName: req.nodeName,
      addresses: req.addresses,
    };
    if (!verifyProof(signer.verifier, transcript, req.proof)) {
      throw new PermissionDeniedError(REFUSED);
    }
    // Checked after the proof: only a holder of the token learns that it expired.
    const { expiresAtMs } = signer.verifier;
    if (expiresAtMs !== undefined && options.now() >= expiresAtMs) {
      throw new PermissionDeniedError(
        `join: this token expired at ${new Date(expiresAtMs).toISOString()}; make a new one on the node that ran init (budgie cluster token --rotate, or --ttl)`,
      );
    }
    const signed = await signNodeCertificate(
      { certPem: identity.caCertPem, keyPem: signer.caKeyPem },
      { csrDer: req.csr, nodeName: req.nodeName, addresses: req.addresses, now: options.now() },
    );
    options.log.info('admitted a node', { node: shortId(signed.nodeId), name: req.nodeName });
    return {
      nodeCertificate: new X509Certificate(signed.certPem).raw,
      caCertificate: new X509Certificate(identity.caCertPem).raw,
      members: options.members?.() ?? [
        { nodeId: identity.nodeId, nodeName: identity.nodeName, address: '' },
      ],
    };
  };
}

function signerOrRefuse(identity: NodeIdentity): NonNullable<NodeIdentity['signer']> {
  if (identity.signer === undefined) {
    throw new FailedPreconditionError(
      'join: this member cannot admit nodes (it does not hold the cluster CA key); join through the node that ran budgie cluster init',
    );
  }
  return identity.signer;
}

/** The caller's address without its port ("10.0.0.2:51234" → "10.0.0.2", "[::1]:5" → "[::1]"). */
export function sourceOf(peer: string): string {
  return peer.replace(/:\d+$/, '');
}
