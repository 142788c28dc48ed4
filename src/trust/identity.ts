import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { isCaCertificate } from './ca';
import type { StoredCluster } from './cluster-store';
import { clusterIdOf, nodeIdOfCertificate } from './ids';
import type { TokenVerifier } from './join-proof';

/** A member's identity, checked for consistency when it was loaded. */
export interface NodeIdentity {
  nodeId: string;
  nodeName: string;
  clusterId: string;
  /** The IP addresses in the node's certificate. */
  addresses: string[];
  caCertPem: string;
  nodeCertPem: string;
  nodeKeyPem: string;
  /** Present on nodes that can admit joiners: they hold the CA key and the token verifier. */
  signer?: Signer;
}

export interface Signer {
  caKeyPem: string;
  verifier: TokenVerifier;
}

/**
 * Builds the identity from stored files, or says which check failed: the CA certificate is a
 * self-signed CA, the node certificate is issued and signed by it, names a node id that matches
 * its key, and the node key (and the CA key, when held) belong to their certificates.
 */
export function identityOf(stored: StoredCluster): NodeIdentity | string {
  let ca: X509Certificate;
  let node: X509Certificate;
  try {
    ca = new X509Certificate(stored.caCertPem);
    node = new X509Certificate(stored.nodeCertPem);
  } catch {
    return 'a certificate does not parse';
  }
  if (!isCaCertificate(ca)) return 'ca.crt is not a self-signed CA certificate';
  if (!node.checkIssued(ca) || !node.verify(ca.publicKey))
    return 'node.crt is not signed by ca.crt';
  const nodeId = nodeIdOfCertificate(node);
  if (nodeId === undefined) return 'node.crt does not carry a node id matching its key';
  if (!sameKey(stored.nodeKeyPem, node)) return 'node.key does not belong to node.crt';
  const signer = signerOf(stored, ca);
  if (typeof signer === 'string') return signer;
  return {
    nodeId,
    nodeName: commonNameOf(node),
    clusterId: clusterIdOf(ca.raw),
    addresses: ipAddressesOf(node),
    caCertPem: stored.caCertPem,
    nodeCertPem: stored.nodeCertPem,
    nodeKeyPem: stored.nodeKeyPem,
    ...(signer !== undefined && { signer }),
  };
}

function signerOf(stored: StoredCluster, ca: X509Certificate): Signer | undefined | string {
  if (stored.caKeyPem === undefined) return undefined;
  if (!sameKey(stored.caKeyPem, ca)) return 'ca.key does not belong to ca.crt';
  if (stored.verifier === undefined) return 'token.json is missing beside ca.key';
  return { caKeyPem: stored.caKeyPem, verifier: stored.verifier };
}

function sameKey(keyPem: string, cert: X509Certificate): boolean {
  try {
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({
      type: 'spki',
      format: 'der',
    });
    return fromKey.equals(cert.publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
}

/** The CN of a certificate this module issued (`CN=<node name>`). */
export function commonNameOf(cert: X509Certificate): string {
  const line = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return line === undefined ? '' : line.slice(3);
}

export function ipAddressesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('IP Address:'))
    .map((entry) => entry.slice('IP Address:'.length));
}
