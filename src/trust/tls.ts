import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import {
  credentials,
  experimental,
  type ChannelCredentials,
  type ServerCredentials,
} from '@grpc/grpc-js';
import type { NodeIdentity } from './identity';
import { nodeIdOfCertificate, shortId } from './ids';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/**
 * Hands grpc-js a fixed CA and identity; the server is rebuilt when they change. Updates are
 * delivered on a later tick, as grpc-js's own file-watching provider does: grpc-js registers its
 * watcher only after it subscribes, so an update delivered during the subscription is lost.
 */
class StaticCertificates implements experimental.CertificateProvider {
  constructor(
    private readonly ca: Buffer,
    private readonly identity: experimental.IdentityCertificateUpdate,
  ) {}

  addCaCertificateListener(listener: CaListener): void {
    setImmediate(() => {
      listener({ caCertificate: this.ca });
    });
  }
  removeCaCertificateListener(): void {}
  addIdentityCertificateListener(listener: IdentityListener): void {
    setImmediate(() => {
      listener(this.identity);
    });
  }
  removeIdentityCertificateListener(): void {}
}

/**
 * TLS for the peer server. It asks every client for a certificate but does not require one
 * (`createSsl` can only do both or neither; the certificate-provider credentials can do this),
 * because JoinService must answer nodes that have none yet. grpc-js then exposes a client
 * certificate to calls through `getAuthContext()` only when it verified against the cluster CA,
 * and the peer-auth interceptor refuses every other service without one.
 *
 * The server sends its certificate followed by the CA's, so a joiner can find the CA certificate
 * whose fingerprint its token carries.
 */
export function peerServerCredentials(identity: NodeIdentity): ServerCredentials {
  const certs = new StaticCertificates(Buffer.from(identity.caCertPem), {
    certificate: Buffer.from(`${identity.nodeCertPem.trimEnd()}\n${identity.caCertPem}`),
    privateKey: Buffer.from(identity.nodeKeyPem),
  });
  return experimental.createCertificateProviderServerCredentials(certs, certs, false);
}

/**
 * TLS for dialling a member: trust only the cluster CA, present this node's certificate, and
 * check the server's node id instead of a hostname (members are dialled by IP address, and their
 * identity is their key). `expectedNodeId` pins one member; without it any member will do.
 */
export function peerClientCredentials(
  identity: NodeIdentity,
  target: string,
  expectedNodeId?: string,
): ChannelCredentials {
  return credentials.createSsl(
    Buffer.from(identity.caCertPem),
    Buffer.from(identity.nodeKeyPem),
    Buffer.from(identity.nodeCertPem),
    { checkServerIdentity: nodeIdentityCheck(target, expectedNodeId) },
  );
}

/** TLS for a joiner, which has a CA certificate (pinned by the token) and no certificate yet. */
export function joinClientCredentials(caCertPem: string, target: string): ChannelCredentials {
  return credentials.createSsl(Buffer.from(caCertPem), null, null, {
    checkServerIdentity: nodeIdentityCheck(target, undefined),
  });
}

/**
 * HTTP/2 pings on every peer connection, both ways, every 15 s without traffic, each answered
 * within 10 s or the connection is dropped: a member that vanished (power cut, cable pulled) is
 * noticed within 25 s, its calls fail over, and a server stream to it is released rather than
 * kept for TCP's own timeouts (minutes to hours).
 */
export const PEER_KEEPALIVE = {
  'grpc.keepalive_time_ms': 15_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

/**
 * Channel options for every peer client. grpc-js would send the peer's IP address as the TLS
 * server name, which RFC 6066 forbids (and Node warns about); the name is not checked anyway.
 * HTTP/2's default 64 KiB receive window makes a member wait for a window update every 64 KiB of
 * a blob or volume it streams here; 8 MiB lets it send on (about 1.5× the throughput measured).
 */
export const PEER_CHANNEL_OPTIONS = {
  'grpc.ssl_target_name_override': 'peer.budgie',
  'grpc-node.flow_control_window': 8 << 20,
  ...PEER_KEEPALIVE,
  'grpc.keepalive_permit_without_calls': 1,
};

function nodeIdentityCheck(
  target: string,
  expectedNodeId: string | undefined,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const nodeId = nodeIdOfCertificate(new X509Certificate(cert.raw));
    if (nodeId === undefined) {
      return new Error(`peer ${target}: its certificate does not name a Budgie node`);
    }
    if (expectedNodeId !== undefined && nodeId !== expectedNodeId) {
      return new Error(
        `peer ${target}: expected node ${shortId(expectedNodeId)}, found node ${shortId(nodeId)}`,
      );
    }
    return undefined;
  };
}
