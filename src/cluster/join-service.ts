import { X509Certificate } from 'node:crypto';
import {
  JoinServiceService,
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

export interface JoinServiceOptions {
  /** Asked on every call: the token may be rotated while the server runs. */
  identity: () => NodeIdentity;
  challenges: ChallengeStore;
  now: () => number;
  /** The members a new node should know about; this node alone when not given. */
  members?: () => Member[];
  log: Logger;
}

/** One message for every bad proof: which part was wrong is of use only to someone guessing. */
const REFUSED =
  'join: token refused (it is wrong, or it was rotated: ask a member for the current one)';

/**
 * The only service open to callers without a cluster certificate. A joiner gets a nonce, then
 * sends a CSR with a proof over that nonce; a good proof earns a node certificate for the CSR's
 * key. The nonce is consumed before the proof is checked, so every proof is good at most once.
 */
export function joinService(options: JoinServiceOptions): ServiceBinding {
  const { challenges, log } = options;
  const implementation: JoinServiceServer = {
    getChallenge: unary(log, 'GetChallenge', () => {
      signerOrRefuse(options.identity());
      return Promise.resolve({ nonce: challenges.issue() });
    }),
    join: unary(log, 'Join', async (req) => {
      const identity = options.identity();
      const signer = signerOrRefuse(identity);
      checkTokenId(req.tokenId);
      if (!challenges.consume(req.nonce)) {
        throw new PermissionDeniedError(
          'join: the challenge is unknown, expired or already used; ask for a new one',
        );
      }
      const transcript = {
        clusterId: identity.clusterId,
        tokenId: req.tokenId,
        nonce: req.nonce,
        csrDer: req.csr,
        nodeName: req.nodeName,
        addresses: req.addresses,
      };
      if (!verifyProof(signer.verifier, transcript, req.proof))
        throw new PermissionDeniedError(REFUSED);
      const signed = await signNodeCertificate(
        { certPem: identity.caCertPem, keyPem: signer.caKeyPem },
        { csrDer: req.csr, nodeName: req.nodeName, addresses: req.addresses, now: options.now() },
      );
      log.info('admitted a node', { node: shortId(signed.nodeId), name: req.nodeName });
      return {
        nodeCertificate: new X509Certificate(signed.certPem).raw,
        caCertificate: new X509Certificate(identity.caCertPem).raw,
        members: options.members?.() ?? [
          { nodeId: identity.nodeId, nodeName: identity.nodeName, address: '' },
        ],
      };
    }),
  };
  return { definition: JoinServiceService, implementation };
}

function signerOrRefuse(identity: NodeIdentity): NonNullable<NodeIdentity['signer']> {
  if (identity.signer === undefined) {
    throw new FailedPreconditionError(
      'join: this member cannot admit nodes (it does not hold the cluster CA key); join through the node that ran budgie cluster init',
    );
  }
  return identity.signer;
}
