import * as t from 'io-ts';
import { PermissionDeniedError, UnavailableError } from '../errors';
import type { Logger } from '../log';
import { decodeJson } from '../oci/image-codecs';
import { untilAborted } from './abort';
import { type Challenge, parseChallenges } from './challenge';
import { type HttpTransport, readBody } from './http';

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for a registry host as contacted (registry-1.docker.io for Docker Hub). */
export type CredentialSource = (host: string) => Credentials | undefined;

interface CachedToken {
  header: string;
  expiresAtMs: number;
}

/** A token being fetched (shared by everyone who needs it meanwhile), then the token. */
interface TokenEntry {
  fetching: Promise<CachedToken>;
  done?: CachedToken;
}

/** Docker token spec: `token` (or OAuth's `access_token`), lifetime in seconds. */
const TokenResponse = t.partial({
  token: t.string,
  access_token: t.string,
  expires_in: t.number,
});

/** The token spec's default lifetime, and the margin we keep so a token does not expire in flight. */
const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 10_000;
const TOKEN_BODY_LIMIT = 1 << 20;

/**
 * Registry authentication: remembers each host's challenge (so later requests carry a token
 * up front instead of meeting a 401 each time) and caches bearer tokens per host and scope
 * until they expire. Concurrent requests for the same token share one token fetch.
 */
export class Authenticator {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, TokenEntry>();

  constructor(
    private readonly transport: HttpTransport,
    private readonly credentials: CredentialSource,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** The Authorization header for a request to `host` on `scope`, from what is known so far. */
  async authorization(
    host: string,
    scope: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const challenge = this.challenges.get(host);
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      const creds = this.credentials(host);
      return creds === undefined ? undefined : basic(creds);
    }
    const key = `${host} ${scope}`;
    let entry = this.tokens.get(key);
    if (entry?.done !== undefined && entry.done.expiresAtMs <= this.now()) entry = undefined;
    entry ??= this.startFetch(key, host, challenge, scope);
    return (await untilAborted(entry.fetching, signal)).header;
  }

  /**
   * Learns from a 401: records the host's challenge and forgets the token that was refused.
   * Returns whether trying again with `authorization()` can help.
   */
  challenged(host: string, scope: string, header: string | undefined, sent: string | undefined) {
    const challenges = parseChallenges(header ?? '');
    const challenge =
      challenges.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined) ??
      challenges.find((c) => c.scheme === 'basic');
    if (challenge === undefined) return false;
    this.challenges.set(host, challenge);
    // Only the token that was refused: a fetch another request started since is fresh.
    const key = `${host} ${scope}`;
    if (sent !== undefined && this.tokens.get(key)?.done?.header === sent) this.tokens.delete(key);
    if (challenge.scheme === 'basic')
      return sent === undefined && this.credentials(host) !== undefined;
    return true;
  }

  /** Names whose credentials are in play, for "denied" messages. */
  describeCredentials(host: string): string {
    const creds = this.credentials(host);
    return creds === undefined ? 'without credentials' : `as ${creds.username}`;
  }

  private startFetch(key: string, host: string, challenge: Challenge, scope: string): TokenEntry {
    const entry: TokenEntry = { fetching: this.fetchToken(host, challenge, scope) };
    this.tokens.set(key, entry);
    entry.fetching.then(
      (token) => {
        entry.done = token;
      },
      () => {
        if (this.tokens.get(key) === entry) this.tokens.delete(key);
      },
    );
    return entry;
  }

  private async fetchToken(
    host: string,
    challenge: Challenge,
    scope: string,
  ): Promise<CachedToken> {
    const realm = tokenRealm(host, challenge);
    const creds = this.credentials(host);
    if (challenge.params.service !== undefined) {
      realm.searchParams.set('service', challenge.params.service);
    }
    realm.searchParams.set('scope', scope);
    this.logger.debug('fetching registry token', { host, realm: realm.origin, scope });
    const headers: Record<string, string> =
      creds === undefined ? {} : { Authorization: basic(creds) };
    // No caller's signal: other requests may be waiting on this token (the idle timeout bounds it).
    const res = await this.transport.send({ url: realm, headers });
    const what = `token from ${realm.host} for ${host}`;
    const body = await readBody(res.body, TOKEN_BODY_LIMIT, what);
    if (res.status === 401 || res.status === 403) {
      throw new PermissionDeniedError(
        `registry ${host} refused to authenticate ${this.describeCredentials(host)} (token server ${realm.host} answered HTTP ${res.status})`,
      );
    }
    if (res.status !== 200) {
      throw new UnavailableError(`${what}: token server answered HTTP ${res.status}`);
    }
    const decoded = decodeJson(TokenResponse, body, what);
    const token = decoded.token ?? decoded.access_token;
    if (token === undefined || token === '') {
      throw new UnavailableError(`${what}: the token server sent no token`);
    }
    // Lifetimes count from our clock, not issued_at: the registry's clock may differ from ours.
    const lifetimeMs = Math.max(decoded.expires_in ?? 0, DEFAULT_TOKEN_SECONDS) * 1000;
    return { header: `Bearer ${token}`, expiresAtMs: this.now() + lifetimeMs - EXPIRY_MARGIN_MS };
  }
}

function tokenRealm(host: string, challenge: Challenge): URL {
  const realm = challenge.params.realm ?? '';
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new UnavailableError(`registry ${host} sent an invalid token realm "${realm}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UnavailableError(`registry ${host} sent a token realm that is not HTTP: "${realm}"`);
  }
  return url;
}

function basic(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}
