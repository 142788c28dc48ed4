import { X509Certificate } from 'node:crypto';
import { InvalidInputError } from '../../../src/errors';
import { createCa, isCaCertificate } from '../../../src/trust/ca';
import { clusterIdOf, nodeIdOfCertificate, nodeUri, shortId } from '../../../src/trust/ids';
import { generateKeyPair, keyPairFromPem, SIGNING_ALGORITHM, x509 } from '../../../src/trust/x509';
import {
  createCsr,
  createNodeKey,
  nodeIdOfKey,
  signNodeCertificate,
} from '../../../src/trust/node-cert';

const NOW = Date.UTC(2025, 0, 1);

describe('cluster PKI', () => {
  let ca: Awaited<ReturnType<typeof createCa>>;
  let nodeKey: string;

  beforeAll(async () => {
    ca = await createCa(NOW);
    nodeKey = await createNodeKey();
  });

  async function issue(addresses: string[] = ['192.168.1.20', 'fe80::1']) {
    const csrDer = await createCsr(nodeKey, 'laptop');
    return signNodeCertificate(ca, { csrDer, nodeName: 'laptop', addresses, now: NOW });
  }

  it('makes a self-signed P-256 CA that may sign node certificates only', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(isCaCertificate(cert)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(NOW + 19 * 365 * 24 * 3600 * 1000);
    expect(clusterIdOf(cert.raw)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs a node certificate that chains to the CA and names the node by its key', async () => {
    const signed = await issue();
    const cert = new X509Certificate(signed.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(signed.nodeId).toBe(nodeIdOfKey(nodeKey));
    expect(nodeIdOfCertificate(cert)).toBe(signed.nodeId);
    expect(cert.subjectAltName).toContain(`URI:budgie://node/${signed.nodeId}`);
    expect(cert.subjectAltName).toContain('IP Address:192.168.1.20');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert.subject).toBe('CN=laptop');
  });

  it('gives a node the same id in every certificate for its key', async () => {
    const first = await issue(['10.0.0.1']);
    const second = await issue([]);
    expect(second.nodeId).toBe(first.nodeId);
    expect(shortId(first.nodeId)).toHaveLength(12);
    expect(nodeIdOfKey(await createNodeKey())).not.toBe(first.nodeId);
  });

  it('does not chain a certificate to another cluster CA', async () => {
    const other = new X509Certificate((await createCa(NOW)).certPem);
    const cert = new X509Certificate((await issue()).certPem);
    expect(cert.checkIssued(other)).toBe(false);
    expect(cert.verify(other.publicKey)).toBe(false);
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const csrDer = await createCsr(nodeKey, 'laptop');
    csrDer.writeUInt8(csrDer.readUInt8(csrDer.length - 3) ^ 0xff, csrDer.length - 3);
    await expect(
      signNodeCertificate(ca, { csrDer, nodeName: 'laptop', addresses: [], now: NOW }),
    ).rejects.toThrow(/^csr: expected a PKCS#10 request for a P-256 key/);
  });

  it('refuses bad names and addresses with the field named', async () => {
    const csrDer = await createCsr(nodeKey, 'laptop');
    const sign = (nodeName: string, addresses: string[]) =>
      signNodeCertificate(ca, { csrDer, nodeName, addresses, now: NOW });
    await expect(sign('CN=evil, O=x', [])).rejects.toThrow(InvalidInputError);
    await expect(sign('CN=evil, O=x', [])).rejects.toThrow(/^node name: expected/);
    await expect(sign('laptop', ['example.com'])).rejects.toThrow(
      'addresses[0]: expected an IP address, got "example.com"',
    );
  });

  it('does not take a node id from a certificate whose key does not hash to it', async () => {
    // Signed by the CA, but claiming another node's id: the id is the key's hash or nothing.
    const keys = await generateKeyPair();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '03',
      subject: [{ CN: ['liar'] }],
      issuer: new x509.X509Certificate(ca.certPem).subject,
      notBefore: new Date(NOW),
      notAfter: new Date(NOW + 3_600_000),
      publicKey: keys.publicKey,
      signingKey: (await keyPairFromPem(ca.keyPem)).privateKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: nodeUri(nodeIdOfKey(nodeKey)) },
        ]),
      ],
    });
    expect(nodeIdOfCertificate(new X509Certificate(cert.toString('pem')))).toBeUndefined();
    expect(nodeIdOfCertificate(new X509Certificate(ca.certPem))).toBeUndefined();
  });
});
