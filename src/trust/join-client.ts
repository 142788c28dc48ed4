import { Metadata } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { JoinServiceClient, type JoinResponse } from '../gen/budgie/peer/v1/peer';
import { PermissionDeniedError } from '../errors';
import { formatHostPort, type HostPort } from '../host-port';
import { fetchPinnedCa } from './fetch-ca';
import { clusterIdOf, nodeIdOfCertificate } from './ids';
import { signProof } from './join-proof';
import { createCsr, nodeIdOfKey } from './node-cert';
import { peerCall, type CallOptions } from '../rpc/peer-calls';
import { joinClientCredentials, PEER_CHANNEL_OPTIONS } from './tls';
import type { JoinToken } from './token';

export interface JoinAsk extends CallOptions {
  token: JoinToken;
  peer: HostPort;
  /** The joiner's own key; only a CSR for it is sent. */
  nodeKeyPem: string;
  nodeName: string;
  addresses: readonly string[];
}

/** A member the admitting node named, to dial next. */
export interface KnownMember {
  nodeId: string;
  nodeName: string;
  /** HOST:PORT of its peer API; empty when unknown. */
  address: string;
}

/** Far past a LAN cluster: a longer list is broken or hostile, and is cut here. */
const MAX_MEMBERS = 1000;

export interface Admission {
  caCertPem: string;
  nodeCertPem: string;
  members: KnownMember[];
}

/**
 * The joiner's side of the join protocol:
 * 1. pin: find the CA certificate named by the token in the peer's TLS chain (nothing sent yet);
 * 2. dial the peer over TLS verified against that CA only;
 * 3. GetChallenge: a fresh nonce;
 * 4. Join: a CSR for our key and a proof signed over (cluster, token id, nonce, CSR, name,
 *    addresses) with the key derived from the token secret;
 * 5. check the answer: the certificate is signed by the pinned CA and names our key.
 */
export async function requestJoin(ask: JoinAsk): Promise<Admission> {
  const target = formatHostPort(ask.peer);
  const caCertPem = await fetchPinnedCa(ask.peer, ask.token.caFingerprint, ask.signal);
  const ca = new X509Certificate(caCertPem);
  const client = new JoinServiceClient(
    target,
    joinClientCredentials(caCertPem, target),
    PEER_CHANNEL_OPTIONS,
  );
  try {
    const { nonce } = await peerCall<{ nonce: Buffer }>(target, ask, (deadline, done) =>
      client.getChallenge({}, new Metadata(), { deadline }, done),
    );
    const csr = await createCsr(ask.nodeKeyPem, ask.nodeName);
    const transcript = {
      clusterId: clusterIdOf(ca.raw),
      tokenId: ask.token.id,
      nonce,
      csrDer: csr,
      nodeName: ask.nodeName,
      addresses: ask.addresses,
    };
    const request = {
      tokenId: ask.token.id,
      nonce,
      csr,
      proof: signProof(ask.token.secret, ask.token.id, transcript),
      nodeName: ask.nodeName,
      addresses: [...ask.addresses],
    };
    const response = await peerCall<JoinResponse>(target, ask, (deadline, done) =>
      client.join(request, new Metadata(), { deadline }, done),
    );
    const nodeCert = new X509Certificate(response.nodeCertificate);
    if (
      !nodeCert.checkIssued(ca) ||
      !nodeCert.verify(ca.publicKey) ||
      nodeIdOfCertificate(nodeCert) !== nodeIdOfKey(ask.nodeKeyPem)
    ) {
      throw new PermissionDeniedError(
        `join: peer ${target} answered with a certificate that is not ours or not from the cluster CA`,
      );
    }
    return {
      caCertPem,
      nodeCertPem: nodeCert.toString(),
      members: response.members
        .slice(0, MAX_MEMBERS)
        .map((m) => ({ nodeId: m.nodeId, nodeName: m.nodeName, address: m.address })),
    };
  } finally {
    client.close();
  }
}
