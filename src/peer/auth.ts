import { X509Certificate } from 'node:crypto';
import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { toStatus } from '../rpc/status';
import { PermissionDeniedError } from '../errors';
import { nodeIdOfCertificate } from '../trust/ids';

/** The caller of an authorised call, as proved by its client certificate. */
export interface PeerCaller {
  nodeId: string;
}

/** The part of grpc-js's AuthContext used here (the type itself is not exported by grpc-js). */
interface AuthContext {
  sslPeerCertificate?: { raw: Buffer } | undefined;
}

/** What a handler can ask its call for; every grpc-js server call has it. */
export interface HasAuthContext {
  getAuthContext(): AuthContext | null;
}

/**
 * Default deny: every call on the peer server needs a cluster client certificate of a node that
 * has not left (`isRevoked`), except calls to the services named in `openServices` (JoinService).
 * One interceptor on the whole server, so a service added later is protected without doing
 * anything.
 */
export function membersOnly(
  caCertPem: string,
  openServices: readonly string[],
  isRevoked: (nodeId: string) => boolean = () => false,
): ServerInterceptor {
  const ca = new X509Certificate(caCertPem);
  const open = openServices.map((service) => `/${service}/`);
  return (method, call) => {
    if (open.some((prefix) => method.path.startsWith(prefix)))
      return new ServerInterceptingCall(call);
    const refusal = check(call.getAuthContext(), ca, isRevoked);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (refusal === undefined) next(metadata);
        else call.sendStatus(refusal);
      })
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => {
        next(listener);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}

/** The CA last parsed, by its PEM: handlers ask on every call, and the CA rarely changes. */
let parsedCa: { pem: string; cert: X509Certificate } | undefined;

function caOf(pem: string): X509Certificate {
  if (parsedCa?.pem !== pem) parsedCa = { pem, cert: new X509Certificate(pem) };
  return parsedCa.cert;
}

/** The caller of a call that passed `membersOnly`; a handler of a members-only service uses it. */
export function callerOf(call: HasAuthContext, caCertPem: string): PeerCaller {
  const ca = caOf(caCertPem);
  const result = verifiedCaller(call.getAuthContext(), ca);
  if (typeof result === 'string') throw new PermissionDeniedError(result);
  return result;
}

type Refusal = ReturnType<typeof toStatus> & { code: status; details: string };

function check(
  auth: AuthContext | null,
  ca: X509Certificate,
  isRevoked: (nodeId: string) => boolean,
): Refusal | undefined {
  let result = verifiedCaller(auth, ca);
  if (typeof result !== 'string' && isRevoked(result.nodeId)) {
    result = `peer API: node ${result.nodeId.slice(0, 12)} left the cluster and its certificate is no longer trusted (join again with a token)`;
  }
  if (typeof result !== 'string') return undefined;
  const statusObject = toStatus(new PermissionDeniedError(result));
  // No certificate at all is "who are you?", not "you may not": gRPC has a code for each.
  const code =
    auth?.sslPeerCertificate === undefined ? status.UNAUTHENTICATED : status.PERMISSION_DENIED;
  return { ...statusObject, code, details: result };
}

/**
 * Certificates already checked, by CA and DER: parsing, verifying and reading the node id cost
 * about 3 ms a call, which a stream of many small calls (a sync of small files) pays per file.
 * A certificate's bytes decide the answer, so the cache cannot be fooled; revocation is checked
 * apart, on every call. Bounded: the oldest entry goes first.
 */
const checked = new Map<string, PeerCaller | string>();
const MAX_CHECKED = 256;
const caIds = new WeakMap<X509Certificate, string>();

function verifiedCaller(auth: AuthContext | null, ca: X509Certificate): PeerCaller | string {
  const peer = auth?.sslPeerCertificate;
  // grpc-js fills sslPeerCertificate only when the TLS stack verified it against the cluster CA;
  // a missing certificate and one from another CA look the same here, and are refused alike.
  if (peer === undefined) {
    return "peer API: this call needs a client certificate signed by this cluster's CA (join the cluster first: budgie cluster join TOKEN)";
  }
  let caId = caIds.get(ca);
  if (caId === undefined) caIds.set(ca, (caId = ca.fingerprint256));
  const key = `${caId} ${peer.raw.toString('base64')}`;
  const known = checked.get(key);
  if (known !== undefined) return known;
  const result = verifyCertificate(peer.raw, ca);
  if (checked.size >= MAX_CHECKED) checked.delete(checked.keys().next().value ?? '');
  checked.set(key, result);
  return result;
}

function verifyCertificate(raw: Buffer, ca: X509Certificate): PeerCaller | string {
  const cert = new X509Certificate(raw);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return "peer API: the client certificate is not signed by this cluster's CA";
  }
  const nodeId = nodeIdOfCertificate(cert);
  if (nodeId === undefined) return 'peer API: the client certificate does not name a Budgie node';
  return { nodeId };
}
