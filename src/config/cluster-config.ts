import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { parseDuration } from '../bundle/duration';
import { parseHostPort } from '../host-port';
import { InvalidInputError } from '../errors';

/** The agent's peering settings: where the peer API listens, what it advertises, heartbeats. */
export interface ClusterConfig {
  /** HOST:PORT of the peer API (mutual TLS), served while this node is a member. */
  listen: string;
  /** The address put in mDNS adverts and in this node's certificate. */
  advertise: string;
  /** True when `advertise` was given rather than guessed: mDNS then uses that interface only. */
  advertiseGiven: boolean;
  mdns: boolean;
  /** Static peers (HOST:PORT), for networks where multicast is blocked. */
  peers: string[];
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  /** How long a dead member is still listed (as dead) and asked, before it is forgotten. */
  forgetAfterMs: number;
}

/** The settings as given (flags, environment, config file), before they are checked. */
export interface ClusterSettings {
  listen?: string | undefined;
  advertise?: string | undefined;
  mdns?: string | undefined;
  peers?: string[] | undefined;
  heartbeat?: string | undefined;
  suspectAfter?: string | undefined;
  deadAfter?: string | undefined;
  forgetAfter?: string | undefined;
}

export const DEFAULT_PEER_PORT = 7447;
const DEFAULTS = {
  listen: `0.0.0.0:${DEFAULT_PEER_PORT}`,
  mdns: 'on',
  heartbeat: '1s',
  suspectAfter: '3s',
  deadAfter: '10s',
  forgetAfter: '24h',
};

/** Config file keys (snake_case) of the cluster settings. */
export const CLUSTER_FILE_KEYS: Record<string, keyof ClusterSettings> = {
  listen: 'listen',
  advertise: 'advertise',
  mdns: 'mdns',
  peers: 'peers',
  heartbeat: 'heartbeat',
  suspect_after: 'suspectAfter',
  dead_after: 'deadAfter',
  forget_after: 'forgetAfter',
};

/** One config file entry; `peers` is a list (a single string is one peer), the rest strings. */
export function clusterFileSetting(
  file: string,
  key: string,
  value: unknown,
): Partial<ClusterSettings> | undefined {
  const field = CLUSTER_FILE_KEYS[key];
  if (field === undefined) return undefined;
  if (field === 'peers') {
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((p): p is string => typeof p === 'string')) {
      throw new InvalidInputError(`${file}: peers: expected a list of HOST:PORT strings`);
    }
    return { peers: list };
  }
  if (typeof value !== 'string' || value === '') {
    throw new InvalidInputError(`${file}: ${key}: expected a non-empty string`);
  }
  return { [field]: value };
}

/** Checks merged settings (flags over file over defaults); errors name the flag. */
export function checkClusterConfig(
  settings: ClusterSettings,
  interfaces = networkInterfaces(),
): ClusterConfig {
  const listen = settings.listen ?? DEFAULTS.listen;
  parseHostPort(listen, '--listen');
  const advertise = settings.advertise ?? firstIpv4(interfaces);
  if (isIP(advertise) === 0) {
    throw new InvalidInputError(
      `--advertise: expected an IP address such as 192.168.1.20, got "${advertise}"`,
    );
  }
  // Each --peer may itself be a comma-separated list, which is how BUDGIE_PEER carries several.
  const peers = (settings.peers ?? []).flatMap((p) => p.split(',')).map((p) => p.trim());
  for (const peer of peers.filter((p) => p !== '')) parseHostPort(peer, '--peer');
  const heartbeatMs = duration('--heartbeat', settings.heartbeat ?? DEFAULTS.heartbeat);
  const suspectAfterMs = duration(
    '--suspect-after',
    settings.suspectAfter ?? DEFAULTS.suspectAfter,
  );
  const deadAfterMs = duration('--dead-after', settings.deadAfter ?? DEFAULTS.deadAfter);
  if (!(heartbeatMs < suspectAfterMs && suspectAfterMs < deadAfterMs)) {
    throw new InvalidInputError(
      '--heartbeat, --suspect-after, --dead-after: expected heartbeat < suspect-after < dead-after (e.g. 1s, 3s, 10s)',
    );
  }
  const forgetAfterMs = duration('--forget-after', settings.forgetAfter ?? DEFAULTS.forgetAfter);
  if (forgetAfterMs <= deadAfterMs) {
    throw new InvalidInputError(
      `--forget-after: expected longer than --dead-after (${settings.deadAfter ?? DEFAULTS.deadAfter}), got ${settings.forgetAfter ?? DEFAULTS.forgetAfter}`,
    );
  }
  return {
    listen,
    advertise,
    advertiseGiven: settings.advertise !== undefined,
    mdns: onOff(settings.mdns ?? DEFAULTS.mdns),
    peers: peers.filter((p) => p !== ''),
    heartbeatMs,
    suspectAfterMs,
    deadAfterMs,
    forgetAfterMs,
  };
}

/** The first non-loopback IPv4 address; loopback when there is none (a lone machine). */
function firstIpv4(interfaces: ReturnType<typeof networkInterfaces>): string {
  const found = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal);
  return found?.address ?? '127.0.0.1';
}

function duration(flag: string, text: string): number {
  const parsed = parseDuration(text);
  if ('reason' in parsed) {
    throw new InvalidInputError(`${flag}: "${text}": ${parsed.reason}`);
  }
  return parsed.ms;
}

function onOff(text: string): boolean {
  const value = text.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(value)) return true;
  if (['off', 'false', 'no', '0'].includes(value)) return false;
  throw new InvalidInputError(`--mdns: expected on or off, got "${text}"`);
}
