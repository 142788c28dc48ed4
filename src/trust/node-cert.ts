import { createPublicKey, createPrivateKey } from 'node:crypto';
import { InvalidInputError, messageOf } from '../errors';
import { CLOCK_SKEW_MS, type CaMaterial } from './ca';
import { nodeIdOf, nodeUri } from './ids';
import { checkAddresses, checkNodeName } from './names';
import {
  generateKeyPair,
  keyPairFromPem,
  pemOf,
  privateKeyPem,
  randomSerial,
  SIGNING_ALGORITHM,
  x509,
} from './x509';

/**
 * Long enough that a LAN cluster does not expire under its users; renewal over the peer API is
 * still to be built (see the cluster README section).
 */
const NODE_VALIDITY_MS = 5 * 365 * 24 * 3600 * 1000;

/** A new node key, as PKCS#8 PEM. It never leaves the node: the CA signs a CSR for it. */
export async function createNodeKey(): Promise<string> {
  return privateKeyPem(await generateKeyPair());
}

/** The id of the node that owns `keyPem`. */
export function nodeIdOfKey(keyPem: string): string {
  const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  return nodeIdOf(spki);
}

/** A CSR for the node's key (DER): it proves to the CA that the joiner holds the private key. */
export async function createCsr(keyPem: string, nodeName: string): Promise<Buffer> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [checkNodeName(nodeName)] }],
    keys: await keyPairFromPem(keyPem),
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return Buffer.from(csr.rawData);
}

export interface NodeCertRequest {
  csrDer: Uint8Array;
  nodeName: string;
  addresses: readonly string[];
  now: number;
}

export interface SignedNodeCert {
  nodeId: string;
  certPem: string;
}

/**
 * Signs a node certificate for the key in a CSR. What the certificate says comes from the checked
 * request fields, not from the CSR's subject: the CSR only contributes its (verified) key. The
 * node id goes in a URI SAN, the addresses in IP SANs; the certificate serves both ends of mTLS.
 */
export async function signNodeCertificate(
  ca: CaMaterial,
  request: NodeCertRequest,
): Promise<SignedNodeCert> {
  const nodeName = checkNodeName(request.nodeName);
  const addresses = checkAddresses(request.addresses);
  const csr = await verifiedCsr(request.csrDer);
  const nodeId = nodeIdOf(new Uint8Array(csr.publicKey.rawData));
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKeys = await keyPairFromPem(ca.keyPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [nodeName] }],
    issuer: caCert.subject,
    notBefore: new Date(request.now - CLOCK_SKEW_MS),
    notAfter: new Date(request.now + NODE_VALIDITY_MS),
    publicKey: csr.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: nodeUri(nodeId) },
        ...addresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { nodeId, certPem: pemOf(cert) };
}

async function verifiedCsr(der: Uint8Array): Promise<x509.Pkcs10CertificateRequest> {
  const bad = (why: string): InvalidInputError =>
    new InvalidInputError(`csr: expected a PKCS#10 request for a P-256 key, ${why}`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(new Uint8Array(der));
  } catch (err) {
    throw bad(`but it does not parse (${messageOf(err)})`);
  }
  const key = createPublicKey({
    key: Buffer.from(csr.publicKey.rawData),
    format: 'der',
    type: 'spki',
  });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw bad(`got a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
  if (!(await csr.verify())) throw bad('but its signature does not verify');
  return csr;
}
