import { X509Certificate } from 'node:crypto';
import { PermissionDeniedError } from '../../../src/errors';
import { callerOf } from '../../../src/peer/auth';
import { createCa } from '../../../src/trust/ca';
import {
  createCsr,
  createNodeKey,
  nodeIdOfKey,
  signNodeCertificate,
} from '../../../src/trust/node-cert';

const NOW = Date.UTC(2025, 0, 1);

/** A call whose TLS peer presented `certPem` (grpc-js's auth context, as the handlers see it). */
const callWith = (certPem: string | undefined) => ({
  getAuthContext: () => ({
    sslPeerCertificate:
      certPem === undefined ? undefined : { raw: new X509Certificate(certPem).raw },
  }),
});

describe('callerOf', () => {
  it('names the node of a certificate this CA signed, the same on every call', async () => {
    const ca = await createCa(NOW);
    const key = await createNodeKey();
    const csrDer = await createCsr(key, 'laptop');
    const { certPem } = await signNodeCertificate(ca, {
      csrDer,
      nodeName: 'laptop',
      addresses: [],
      now: NOW,
    });
    const nodeId = nodeIdOfKey(key);
    for (let i = 0; i < 3; i++) expect(callerOf(callWith(certPem), ca.certPem)).toEqual({ nodeId });
  });

  it("refuses another cluster's certificate, though this one's was checked before (the cache is per CA)", async () => {
    const ours = await createCa(NOW);
    const theirs = await createCa(NOW);
    const key = await createNodeKey();
    const csrDer = await createCsr(key, 'intruder');
    const { certPem } = await signNodeCertificate(theirs, {
      csrDer,
      nodeName: 'intruder',
      addresses: [],
      now: NOW,
    });
    expect(callerOf(callWith(certPem), theirs.certPem).nodeId).toMatch(/^[0-9a-f]{64}$/);
    expect(() => callerOf(callWith(certPem), ours.certPem)).toThrow(PermissionDeniedError);
    expect(() => callerOf(callWith(undefined), ours.certPem)).toThrow(/needs a client certificate/);
  });
});
