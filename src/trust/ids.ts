import { createHash, type X509Certificate } from 'node:crypto';

/**
 * Identities in a cluster are hashes, never names: a node is the hash of its public key (renames
 * and new addresses do not change it), a cluster is the hash of its CA certificate (public, and
 * the same for every member).
 */
export const NODE_URI_PREFIX = 'budgie://node/';

/** Node and cluster ids are 64 hex; people see the first 12, as with replica ids. */
export const SHORT_ID_LENGTH = 12;

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A node id: hex SHA-256 of the node's public key (SubjectPublicKeyInfo, DER). */
export function nodeIdOf(spkiDer: Uint8Array): string {
  return sha256(spkiDer).toString('hex');
}

/** A cluster id: hex SHA-256 of the CA certificate (DER), i.e. its fingerprint. */
export function clusterIdOf(caCertDer: Uint8Array): string {
  return sha256(caCertDer).toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

export function nodeUri(nodeId: string): string {
  return `${NODE_URI_PREFIX}${nodeId}`;
}

const NODE_ID_PATTERN = /^[0-9a-f]{64}$/;

/** Whether `id` has a node id's form (64 lowercase hex digits). */
export function isNodeId(id: string): boolean {
  return NODE_ID_PATTERN.test(id);
}

/**
 * The node id a certificate was issued to: its one `budgie://node/<id>` URI SAN, which must also
 * be the hash of the certificate's own key (a CA never signs anything else, but checking costs
 * nothing and catches a confused caller). Undefined when the certificate is not a Budgie node's.
 */
export function nodeIdOfCertificate(cert: X509Certificate): string | undefined {
  const ids = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith(`URI:${NODE_URI_PREFIX}`))
    .map((entry) => entry.slice(`URI:${NODE_URI_PREFIX}`.length));
  const [id] = ids;
  if (ids.length !== 1 || id === undefined || !isNodeId(id)) return undefined;
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return nodeIdOf(spki) === id ? id : undefined;
}
