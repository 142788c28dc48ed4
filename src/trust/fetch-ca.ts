import { X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { PermissionDeniedError, UnavailableError } from '../errors';
import { base32Encode } from './base32';
import { formatHostPort, type HostPort } from '../host-port';
import { sha256 } from './ids';

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The first step of a join, before anything is sent: open a bare TLS connection to the peer and
 * look in the chain it presents for the CA certificate whose SHA-256 the token carries. Nothing is
 * trusted yet (the chain is not verified here); the CA certificate found becomes the only root
 * for the real gRPC connection, which then verifies the peer's certificate and its possession of
 * the key as usual. A peer of another cluster, or one that merely copied the public CA
 * certificate, fails here or at that handshake, and never sees a proof.
 */
export async function fetchPinnedCa(
  peer: HostPort,
  fingerprint: Buffer,
  signal?: AbortSignal,
): Promise<string> {
  const chain = await presentedChain(peer, signal);
  const ca = chain.find((der) => sha256(der).equals(fingerprint));
  if (ca === undefined) {
    const found =
      chain.length > 0 ? base32Encode(sha256(chain[chain.length - 1] ?? Buffer.alloc(0))) : 'none';
    throw new PermissionDeniedError(
      `join: peer ${formatHostPort(peer)} is not a member of the cluster this token is for ` +
        `(token expects CA ${base32Encode(fingerprint).slice(0, 12)}..., peer presents ${found.slice(0, 12)}...); ` +
        'nothing was sent to it',
    );
  }
  return new X509Certificate(ca).toString();
}

/** The DER certificates a TLS server sends, leaf first. */
function presentedChain(peer: HostPort, signal?: AbortSignal): Promise<Buffer[]> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: peer.host,
      port: peer.port,
      // Verification happens on the gRPC connection, against the CA found here.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      timeout: CONNECT_TIMEOUT_MS,
    });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new UnavailableError(`join: peer ${formatHostPort(peer)}: ${why}`));
    };
    const onAbort = (): void => {
      fail('cancelled');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('timeout', () => {
      fail('no TLS handshake within 5s');
    });
    socket.once('error', (err: Error) => {
      fail(err.message);
    });
    socket.once('secureConnect', () => {
      signal?.removeEventListener('abort', onAbort);
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.destroy();
      resolve(chain);
    });
  });
}

function chainOf(leaf: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  // Node links each certificate to its issuer when the peer sent it, and a self-signed one to
  // itself; `seen` stops the walk there, the bound against odd chains.
  const seen = new Set<DetailedPeerCertificate>();
  let cert: DetailedPeerCertificate | undefined = leaf;
  while (cert !== undefined && !seen.has(cert) && chain.length < 8) {
    seen.add(cert);
    chain.push(cert.raw);
    cert = optional(cert.issuerCertificate);
  }
  return chain;
}

/** Node's typings promise an issuer that is absent when the peer did not send one. */
function optional<T>(value: T): T | undefined {
  return value;
}
