import { createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { isNodeId, nodeIdOfCertificate } from './ids';

/**
 * A member's word that it left the cluster, signed with its own node key, with the certificate
 * the cluster CA issued for that key. Any member can pass it on and every member can check it:
 * a member cannot make the others refuse a node that did not leave (its own revocations of
 * others, unsigned, were believed before).
 */
export interface LeaveProof {
  nodeId: string;
  /** The leaving node's certificate, DER; empty when `byCa`. */
  certificate: Buffer;
  /**
   * ECDSA (SHA-256) by the node's key over `statementOf('leave', ...)`, or with `byCa`, by the
   * cluster CA's key over `statementOf('remove', ...)`.
   */
  signature: Buffer;
  /** The CA key holder removed the node (`budgie cluster remove`): it did not leave itself. */
  byCa: boolean;
}

/** A certificate and a signature together stay well under this; more is not a proof of ours. */
const MAX_PROOF_BYTES = 8 * 1024;

function statementOf(what: 'leave' | 'remove', clusterId: string, nodeId: string): Buffer {
  return Buffer.from(`budgie ${what}\ncluster ${clusterId}\nnode ${nodeId}\n`);
}

/** This node's proof that it leaves `clusterId`. */
export function signLeave(identity: {
  nodeId: string;
  clusterId: string;
  nodeCertPem: string;
  nodeKeyPem: string;
}): LeaveProof {
  const certificate = new X509Certificate(identity.nodeCertPem).raw;
  const signature = sign(
    'sha256',
    statementOf('leave', identity.clusterId, identity.nodeId),
    createPrivateKey(identity.nodeKeyPem),
  );
  return { nodeId: identity.nodeId, certificate, signature, byCa: false };
}

/** The CA key holder's proof that `nodeId` is removed from `clusterId`. */
export function signRemoval(caKeyPem: string, clusterId: string, nodeId: string): LeaveProof {
  const signature = sign(
    'sha256',
    statementOf('remove', clusterId, nodeId),
    createPrivateKey(caKeyPem),
  );
  return { nodeId, certificate: Buffer.alloc(0), signature, byCa: true };
}

/**
 * Why `proof` is not a leave of a member of this cluster (issued by `ca`, signed by the leaving
 * node's own key), or undefined when it is.
 */
export function checkLeave(
  proof: LeaveProof,
  ca: X509Certificate,
  clusterId: string,
): string | undefined {
  if (proof.certificate.length + proof.signature.length > MAX_PROOF_BYTES) {
    return `${proof.certificate.length + proof.signature.length} bytes, more than a proof has`;
  }
  if (proof.byCa) {
    if (!isNodeId(proof.nodeId)) return 'it names no node id';
    const removed = verify(
      'sha256',
      statementOf('remove', clusterId, proof.nodeId),
      ca.publicKey,
      proof.signature,
    );
    return removed ? undefined : "the cluster CA's key did not sign it";
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(proof.certificate);
  } catch {
    return 'its certificate does not parse';
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return "its certificate is not signed by this cluster's CA";
  }
  if (nodeIdOfCertificate(cert) !== proof.nodeId) {
    return 'its certificate is not the leaving node’s';
  }
  const signed = verify(
    'sha256',
    statementOf('leave', clusterId, proof.nodeId),
    cert.publicKey,
    proof.signature,
  );
  return signed ? undefined : 'the leaving node did not sign it';
}
