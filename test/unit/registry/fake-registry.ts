import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry v2 on 127.0.0.1:0 for unit tests: bearer token auth through its own /token
 * endpoint (or basic auth, or none), manifests by tag or digest, blobs with Range support,
 * optional redirects of blobs to "storage" on another origin (localhost instead of 127.0.0.1),
 * and switches for corrupt or truncated blobs. It logs every request for assertions.
 */
export interface FakeRegistryOptions {
  auth?: 'bearer' | 'basic' | 'none';
  /** Accepted username → password; anonymous token requests are allowed when empty. */
  users?: Record<string, string>;
  tokenExpiresIn?: number;
  redirectBlobs?: boolean;
  rangeSupport?: boolean;
  /** Send Docker-Content-Digest with manifests (default true; OCI does not require it). */
  digestHeader?: boolean;
}

export interface LoggedRequest {
  host: string;
  path: string;
  authorization: string | undefined;
  range: string | undefined;
}

interface Stored {
  bytes: Buffer;
  mediaType: string;
}

export const digestOf = (bytes: Buffer): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export class FakeRegistry {
  readonly requests: LoggedRequest[] = [];
  readonly manifests = new Map<string, Stored>();
  readonly blobs = new Map<string, Buffer>();
  /** Blobs served with different bytes than their digest names. */
  readonly corrupt = new Set<string>();
  /** Blobs whose connection is cut after this many bytes. */
  readonly truncate = new Map<string, number>();
  tokensIssued = 0;
  private readonly validTokens = new Set<string>();

  private constructor(
    private readonly server: http.Server,
    private readonly options: FakeRegistryOptions,
  ) {}

  static async start(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
    const server = http.createServer();
    const registry = new FakeRegistry(server, options);
    server.on('request', (req, res) => {
      registry.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return registry;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return (address satisfies AddressInfo).port;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  /** Forgets issued tokens, as if they were revoked or the registry restarted. */
  revokeTokens(): void {
    this.validTokens.clear();
  }

  putBlob(bytes: Buffer): string {
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return digest;
  }

  putManifest(repo: string, tag: string | undefined, mediaType: string, bytes: Buffer): string {
    const digest = digestOf(bytes);
    this.manifests.set(`${repo}@${digest}`, { bytes, mediaType });
    if (tag !== undefined) this.manifests.set(`${repo}:${tag}`, { bytes, mediaType });
    return digest;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'x'}`);
    this.requests.push({
      host: req.headers.host ?? '',
      path: url.pathname,
      authorization: req.headers.authorization,
      range: req.headers.range,
    });
    if (url.pathname === '/token') {
      this.token(req, url, res);
      return;
    }
    if (url.pathname.startsWith('/storage/')) {
      this.serveBlob(url.pathname.slice('/storage/'.length), req, res);
      return;
    }
    if (!this.authorized(req, res)) return;
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === '/v2/') return void res.end('{}');
    if (m === null) {
      this.error(res, 404, 'NAME_UNKNOWN');
      return;
    }
    const [, repo, kind, ref] = m;
    if (kind === 'manifests') {
      const key = `${repo}${ref?.includes(':') === true ? '@' : ':'}${ref}`;
      const stored = this.manifests.get(key);
      if (stored === undefined) {
        this.error(res, 404, 'MANIFEST_UNKNOWN');
        return;
      }
      res.setHeader('Content-Type', stored.mediaType);
      if (this.options.digestHeader !== false) {
        res.setHeader('Docker-Content-Digest', digestOf(stored.bytes));
      }
      return void res.end(stored.bytes);
    }
    if (this.options.redirectBlobs === true) {
      res.writeHead(307, { Location: `http://localhost:${this.port}/storage/${ref}` });
      return void res.end();
    }
    this.serveBlob(ref ?? '', req, res);
  }

  private serveBlob(digest: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const stored = this.blobs.get(digest);
    if (stored === undefined) {
      this.error(res, 404, 'BLOB_UNKNOWN');
      return;
    }
    let bytes = stored;
    if (this.corrupt.has(digest)) bytes = Buffer.from(stored.map((b) => b ^ 0xff));
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range !== null && this.options.rangeSupport !== false) {
      start = Number(range[1]);
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${bytes.length - 1}/${bytes.length}`);
    }
    const body = bytes.subarray(start);
    res.setHeader('Content-Length', body.length);
    const cut = this.truncate.get(digest);
    if (cut !== undefined) {
      res.write(body.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(body);
  }

  private authorized(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const auth = this.options.auth ?? 'none';
    const header = req.headers.authorization ?? '';
    if (auth === 'none') return true;
    if (auth === 'bearer' && this.validTokens.has(header.replace(/^Bearer /, ''))) return true;
    if (auth === 'basic' && this.checkBasic(header)) return true;
    const challenge =
      auth === 'bearer'
        ? `Bearer realm="http://${this.host}/token",service="fake-registry",scope="repository:x:pull"`
        : 'Basic realm="fake"';
    res.setHeader('WWW-Authenticate', challenge);
    this.error(res, 401, 'UNAUTHORIZED');
    return false;
  }

  private token(req: http.IncomingMessage, url: URL, res: http.ServerResponse): void {
    const users = this.options.users ?? {};
    const anonymous = Object.keys(users).length === 0;
    if (!anonymous && !this.checkBasic(req.headers.authorization ?? '')) {
      this.error(res, 401, 'UNAUTHORIZED');
      return;
    }
    if (url.searchParams.get('service') !== 'fake-registry') {
      this.error(res, 400, 'BAD');
      return;
    }
    this.tokensIssued++;
    const token = `tok-${this.tokensIssued}-${url.searchParams.get('scope') ?? ''}`;
    this.validTokens.add(token);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ token, expires_in: this.options.tokenExpiresIn ?? 300 }));
  }

  private checkBasic(header: string): boolean {
    const [user, password] = Buffer.from(header.replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    return user !== undefined && password !== undefined && this.options.users?.[user] === password;
  }

  private error(res: http.ServerResponse, status: number, code: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ errors: [{ code, message: `fake says ${code.toLowerCase()}` }] }));
  }
}
