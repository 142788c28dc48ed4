import { createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { nodeIdOfCertificate } from './ids';

/**
 * A member's word that it left the cluster, signed with its own node key, with the certificate
 * the cluster CA issued for that key. Any member can pass it on and every member can check it:
 * a member cannot make the others refuse a node that did not leave (its own revocations of
 * others, unsigned, were believed before).
 */
export interface LeaveProof {
  nodeId: string;
  /** The leaving node's certificate, DER. */
  certificate: Buffer;
  /** ECDSA (SHA-256) by the node's key over `statementOf(clusterId, nodeId)`. */
  signature: Buffer;
}

/** A certificate and a signature together stay well under this; more is not a proof of ours. */
const MAX_PROOF_BYTES = 8 * 1024;

function statementOf(clusterId: string, nodeId: string): Buffer {
  return Buffer.from(`budgie leave\ncluster ${clusterId}\nnode ${nodeId}\n`);
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
    statementOf(identity.clusterId, identity.nodeId),
    createPrivateKey(identity.nodeKeyPem),
  );
  return { nodeId: identity.nodeId, certificate, signature };
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
    statementOf(clusterId, proof.nodeId),
    cert.publicKey,
    proof.signature,
  );
  return signed ? undefined : 'the leaving node did not sign it';
}
