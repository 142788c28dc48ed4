import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { BudgieError, InvalidInputError, UnavailableError, messageOf } from '../errors';
import { abortError } from './abort';

export interface HttpRequest {
  url: URL;
  headers: Readonly<Record<string, string>>;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Where the answer finally came from, after redirects. */
  url: URL;
  body: Readable;
}

export interface HttpAgents {
  http?: http.Agent;
  https?: https.Agent;
}

export interface HttpTransportOptions {
  /** Keep-alive agents; by default the transport makes (and on close destroys) its own. */
  agents?: HttpAgents | undefined;
  /** A connection that is silent this long (connecting, or mid-body) fails. */
  idleTimeoutMs: number;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET requests over node:http/https with keep-alive connections (node:http hands us a Node
 * stream with no web-stream bridge, which matters for layer throughput). Redirects are
 * followed by hand so that Authorization never leaves the origin it was meant for: registries
 * send blob downloads to object storage with signed URLs.
 */
export class HttpTransport {
  private readonly http: http.Agent;
  private readonly https: https.Agent;
  private readonly ownsAgents: boolean;

  constructor(private readonly options: HttpTransportOptions) {
    this.ownsAgents = options.agents === undefined;
    this.http = options.agents?.http ?? new http.Agent({ keepAlive: true });
    this.https = options.agents?.https ?? new https.Agent({ keepAlive: true });
  }

  async send(request: HttpRequest): Promise<HttpResponse> {
    let url = request.url;
    const headers = { ...request.headers };
    for (let hop = 0; ; hop++) {
      const response = await this.once(url, headers, request.signal);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.status) || location === undefined) return response;
      response.body.resume();
      if (hop === MAX_REDIRECTS) {
        throw new UnavailableError(`${request.url.host}: more than ${MAX_REDIRECTS} redirects`);
      }
      const next = new URL(location, url);
      if (next.origin !== request.url.origin) delete headers.Authorization;
      url = next;
    }
  }

  close(): void {
    if (!this.ownsAgents) return;
    this.http.destroy();
    this.https.destroy();
  }

  private once(
    url: URL,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    signal?.throwIfAborted();
    const secure = url.protocol === 'https:';
    const get = secure ? https.get : http.get;
    return new Promise((resolve, reject) => {
      let answer: http.IncomingMessage | undefined;
      const req = get(url, {
        agent: secure ? this.https : this.http,
        headers,
        signal,
        timeout: this.options.idleTimeoutMs,
      });
      req.on('timeout', () => {
        const err = new UnavailableError(
          `${url.host} did not answer for ${this.options.idleTimeoutMs} ms`,
        );
        // Once the answer has started, the body stream is where the reader will see it.
        if (answer !== undefined) answer.destroy(err);
        else req.destroy(err);
      });
      req.on('error', (err) => {
        reject(signal?.aborted === true ? abortError(signal) : connectionError(url, err));
      });
      req.on('response', (res) => {
        answer = res;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
      });
    });
  }
}

const SYSCALL_PROBLEMS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

/** Why a request to `url` failed before an answer, in words that name the host. */
export function connectionError(url: URL, err: unknown): BudgieError {
  if (err instanceof BudgieError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  const known = typeof code === 'string' ? SYSCALL_PROBLEMS[code] : undefined;
  if (known !== undefined) {
    return new UnavailableError(`cannot reach registry ${url.host}: ${known}`, { cause: err });
  }
  if (url.protocol === 'https:') {
    return new UnavailableError(
      `cannot reach registry ${url.host} over HTTPS: ${messageOf(err)} (for a plain-HTTP registry, list it as insecure)`,
      { cause: err },
    );
  }
  return new UnavailableError(`cannot reach registry ${url.host}: ${messageOf(err)}`, {
    cause: err,
  });
}

/** The whole body, refusing more than `limit` bytes (manifests and configs are small). */
export async function readBody(
  body: Readable,
  limit: number,
  what: string,
  signal?: AbortSignal,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (!Buffer.isBuffer(chunk)) throw new InvalidInputError(`${what}: unexpected body chunk`);
      size += chunk.length;
      if (size > limit) throw new InvalidInputError(`${what} is larger than ${limit} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    body.destroy();
    if (signal?.aborted === true) throw abortError(signal);
    if (err instanceof BudgieError) throw err;
    throw new UnavailableError(`${what}: download interrupted: ${messageOf(err)}`, { cause: err });
  }
  return Buffer.concat(chunks, size);
}
