import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidInputError, PermissionDeniedError, UnavailableError, messageOf } from '../errors';
import type { Logger } from '../log';
import type { Descriptor, Platform } from '../oci/image-codecs';
import { abortError } from './abort';
import { Authenticator, type CredentialSource } from './auth';
import { statusError } from './errors';
import { type HttpAgents, type HttpResponse, HttpTransport, readBody } from './http';
import { decodeManifestDocument, MANIFEST_ACCEPT } from './manifest-document';
import { hostPlatform } from './platform';
import { digestProblem, ImageReference, parseReference, registryHost } from './reference';
import { type FetchedManifest, resolveImage } from './resolve';
import { usesPlainHttp } from './scheme';
import type { BlobFetchOptions, ResolvedImage } from './types';
import { BlobVerifier, checkDigest } from './verify';

export interface RegistryClientOptions {
  logger: Logger;
  /** Registries (host or host:port) spoken to over plain HTTP; loopback ones always are. */
  insecureRegistries?: readonly string[];
  credentials?: CredentialSource;
  /** Keep-alive agents to use instead of the client's own (tests, shared pools). */
  agents?: HttpAgents;
  /**
   * How long a connection may stay silent (connecting, or mid-download; a consumer that stops
   * reading a blob stream for this long fails it too); default 60 s.
   */
  idleTimeoutMs?: number;
  /** Clock for token expiry. */
  now?: () => number;
}

export interface ResolveOptions {
  /** Default: linux and this machine's architecture. */
  platform?: Platform;
  signal?: AbortSignal;
}

/** containerd's limit for manifests; configs get more room (long histories). */
const MANIFEST_LIMIT = 4 << 20;
const SMALL_BLOB_LIMIT = 16 << 20;
const ERROR_BODY_LIMIT = 64 << 10;

/**
 * An OCI distribution (registry v2) client for pulling: resolve a reference to one platform's
 * manifest and config, then stream blobs with their size and digest checked on the way.
 * Connections are kept alive and shared, so blob downloads may run concurrently.
 */
export class RegistryClient {
  private readonly transport: HttpTransport;
  private readonly auth: Authenticator;
  private readonly insecure: readonly string[];
  private readonly logger: Logger;

  constructor(options: RegistryClientOptions) {
    this.logger = options.logger;
    this.insecure = options.insecureRegistries ?? [];
    this.transport = new HttpTransport({
      agents: options.agents,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    });
    this.auth = new Authenticator(
      this.transport,
      options.credentials ?? (() => undefined),
      options.now ?? Date.now,
      this.logger,
    );
  }

  async resolve(
    ref: string | ImageReference,
    options: ResolveOptions = {},
  ): Promise<ResolvedImage> {
    const reference = typeof ref === 'string' ? parseReference(ref) : ref;
    const source = {
      manifest: this.fetchManifest.bind(this),
      blob: this.fetchSmallBlob.bind(this),
    };
    const resolved = await resolveImage(
      source,
      reference,
      options.platform ?? hostPlatform(),
      options.signal,
    );
    this.logger.debug('resolved image', {
      image: resolved.name,
      manifest: resolved.manifest.digest,
      layers: resolved.layers.length,
    });
    return resolved;
  }

  /**
   * Streams a blob of repository `name` (any reference to it). The stream fails with
   * DigestMismatchError when the content is wrong, and with UnavailableError when the
   * connection ends early, in which case the caller may resume with `offset` (and
   * `prefixHash`, to keep the full digest check; see BlobFetchOptions).
   */
  async fetchBlob(
    name: string | ImageReference,
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    options: BlobFetchOptions = {},
  ): Promise<Readable> {
    const ref = typeof name === 'string' ? parseReference(name) : name;
    const { digest, size } = descriptor;
    const what = `blob ${digest} of ${ref.repository}`;
    checkDescriptor(descriptor, what);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
      throw new InvalidInputError(`${what}: cannot resume at byte ${offset} of ${size}`);
    }
    const verify = { what, digest, size, offset, prefixHash: options.prefixHash };
    if (offset === size) return Readable.from([]).pipe(new BlobVerifier({ ...verify, skip: 0 }));
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const res = await this.get(ref, `blobs/${digest}`, what, headers, options.signal);
    const skip = offset > 0 && res.status !== 206 ? offset : 0;
    if (offset > 0 && skip === 0) checkContentRange(res, offset, what);
    const verifier = new BlobVerifier({ ...verify, skip });
    const { signal } = options;
    res.body.on('error', (err) => {
      verifier.destroy(
        signal?.aborted === true
          ? abortError(signal)
          : new UnavailableError(`${what}: download interrupted: ${messageOf(err)}`, {
              cause: err,
            }),
      );
    });
    // A consumer that stops reading early must not leave the connection half-read.
    verifier.on('close', () => {
      if (!res.body.readableEnded) res.body.destroy();
    });
    res.body.pipe(verifier);
    return verifier;
  }

  /** Closes idle keep-alive connections (only those of agents the client made). */
  close(): void {
    this.transport.close();
  }

  private async fetchManifest(
    ref: ImageReference,
    target: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<FetchedManifest> {
    const res = await this.get(
      ref,
      `manifests/${target}`,
      what,
      { Accept: MANIFEST_ACCEPT },
      signal,
    );
    const bytes = await readBody(res.body, MANIFEST_LIMIT, what, signal);
    const byDigest = target.includes(':');
    const header = single(res.headers['docker-content-digest']);
    const named = header !== undefined && digestProblem(header) === undefined ? header : undefined;
    const digest = byDigest
      ? target
      : (named ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    checkDigest(bytes, digest, what);
    const document = decodeManifestDocument(bytes, single(res.headers['content-type']), what);
    return { digest, mediaType: document.mediaType, size: bytes.length, bytes, document };
  }

  private async fetchSmallBlob(
    ref: ImageReference,
    descriptor: Descriptor,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    checkDescriptor(descriptor, what);
    if (descriptor.size > SMALL_BLOB_LIMIT) {
      throw new InvalidInputError(`${what} is larger than ${SMALL_BLOB_LIMIT} bytes`);
    }
    const stream = await this.fetchBlob(ref, descriptor, signal === undefined ? {} : { signal });
    return readBody(stream, SMALL_BLOB_LIMIT, what, signal);
  }

  /** A GET on the repository's API, through the auth dance; any non-2xx becomes an error. */
  private async get(
    ref: ImageReference,
    path: string,
    what: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const host = registryHost(ref.domain);
    const scheme = usesPlainHttp(host, this.insecure) ? 'http' : 'https';
    const url = new URL(`${scheme}://${host}/v2/${ref.path}/${path}`);
    const scope = `repository:${ref.path}:pull`;
    let authorization = await this.auth.authorization(host, scope, signal);
    for (let attempt = 0; ; attempt++) {
      const withAuth =
        authorization === undefined ? headers : { ...headers, Authorization: authorization };
      const res = await this.transport.send({ url, headers: withAuth, signal });
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status !== 401) {
        const body = await readBody(res.body, ERROR_BODY_LIMIT, what, signal).catch(() =>
          Buffer.alloc(0),
        );
        throw statusError(host, what, res.status, body);
      }
      res.body.resume();
      const challenge = single(res.headers['www-authenticate']);
      if (attempt > 0 || !this.auth.challenged(host, scope, challenge, authorization)) {
        throw new PermissionDeniedError(
          `registry ${host} denied access to ${what} ${this.auth.describeCredentials(host)} (the repository may not exist, or may need other credentials)`,
        );
      }
      authorization = await this.auth.authorization(host, scope, signal);
    }
  }
}

function single(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** Descriptors come from untrusted manifests, and their digests go into URLs. */
function checkDescriptor(descriptor: Pick<Descriptor, 'digest' | 'size'>, what: string): void {
  const problem = digestProblem(descriptor.digest);
  if (problem !== undefined) throw new InvalidInputError(`${what}: ${problem}`);
  if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
    throw new InvalidInputError(`${what}: invalid size ${descriptor.size}`);
  }
}

function checkContentRange(res: HttpResponse, offset: number, what: string): void {
  const range = single(res.headers['content-range']);
  if (range === undefined || !range.startsWith(`bytes ${offset}-`)) {
    res.body.destroy();
    throw new UnavailableError(
      `${what}: asked for bytes from ${offset}, the registry sent ${range ?? 'no Content-Range'}`,
    );
  }
}
