import { X509Certificate } from 'node:crypto';
import {
  generateKeyPair,
  pemOf,
  privateKeyPem,
  randomSerial,
  SIGNING_ALGORITHM,
  x509,
} from './x509';

/** The CA outlives any machine in the cluster: rotating it means re-joining every node. */
const CA_VALIDITY_MS = 20 * 365 * 24 * 3600 * 1000;
/** LAN clocks disagree by minutes; a certificate must not be "not yet valid" on a peer. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

/**
 * A new cluster CA: a P-256 key and a self-signed certificate that may sign node certificates
 * only (path length 0: no intermediate CAs).
 */
export async function createCa(now: number): Promise<CaMaterial> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: ['Budgie cluster CA'] }],
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pemOf(cert), keyPem: await privateKeyPem(keys) };
}

/** Whether `pem` is a CA certificate this module would have made (used when loading state). */
export function isCaCertificate(cert: X509Certificate): boolean {
  return cert.ca && cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

export function parseCertificate(pem: string | Buffer): X509Certificate {
  return new X509Certificate(pem);
}
