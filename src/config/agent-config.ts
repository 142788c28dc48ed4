import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { parse } from 'yaml';
import { InvalidInputError, messageOf } from '../errors';
import { LOG_LEVELS, type LogLevel } from '../log-levels';
import { parseSize } from './size';
import {
  checkClusterConfig,
  clusterFileSetting,
  CLUSTER_FILE_KEYS,
  type ClusterConfig,
  type ClusterSettings,
} from './cluster-config';

/** Everything `budgie agent` needs to start, after flags, environment and config file are merged. */
export interface AgentConfig {
  containerd: string;
  namespace: string;
  socket: string;
  stateDir: string;
  logDir: string;
  nodeName: string;
  logLevel: LogLevel;
  /** Linux bridge the replicas' networks hang off (at most 15 characters). */
  bridge: string;
  /** IPv4 CIDR for replica addresses, or `auto`: the first free /16 from 10.213.0.0/16 on. */
  subnet: string;
  /** Address the published ports listen on. */
  publishAddress: string;
  /** The largest image archive `budgie image import` takes, as a size (e.g. 32GiB). */
  maxImport: string;
  /** Peering: --listen, --advertise, --peer, --mdns and heartbeat timings. */
  cluster: ClusterConfig;
}

export const DEFAULT_CONFIG_FILE = '/etc/budgie/config.yaml';

/** The settings that are plain strings; the cluster's have their own module. */
type StringField = Exclude<keyof AgentConfig, 'cluster'>;
/** Settings as given, before they are checked. */
type RawConfig = Record<StringField, string>;
/** Flags as yargs gives them: a flag that was not given is undefined. */
export type AgentFlags = { [K in StringField]?: string | undefined } & ClusterSettings;

export const AGENT_DEFAULTS: Omit<AgentConfig, 'nodeName' | 'cluster'> = {
  containerd: '/run/containerd/containerd.sock',
  namespace: 'budgie',
  socket: '/run/budgie/budgie.sock',
  stateDir: '/var/lib/budgie',
  logDir: '/var/log/budgie',
  logLevel: 'info',
  bridge: 'budgie0',
  subnet: 'auto',
  publishAddress: '0.0.0.0',
  maxImport: '32GiB',
};

/** The config file's keys (snake_case, as users write YAML) and the field each one sets. */
const FILE_KEYS: Record<string, StringField> = {
  containerd: 'containerd',
  namespace: 'namespace',
  socket: 'socket',
  state_dir: 'stateDir',
  log_dir: 'logDir',
  node_name: 'nodeName',
  log_level: 'logLevel',
  bridge: 'bridge',
  subnet: 'subnet',
  publish_address: 'publishAddress',
  max_import: 'maxImport',
};

const PATH_FIELDS = new Set<StringField>(['containerd', 'socket', 'stateDir', 'logDir']);

/**
 * Merges the sources in the usual order: flags and environment (yargs folds BUDGIE_* into flags)
 * over the config file over the defaults. A missing default config file is fine; a missing file
 * that the user named is an error.
 */
export async function resolveAgentConfig(
  flags: AgentFlags,
  configFile: string | undefined,
): Promise<AgentConfig> {
  const fromFile = await readConfigFile(
    configFile ?? DEFAULT_CONFIG_FILE,
    configFile !== undefined,
  );
  const merged: RawConfig = {
    ...AGENT_DEFAULTS,
    nodeName: hostname(),
    ...fromFile.settings,
    ...definedOnly(flags),
  };
  const cluster = { ...fromFile.cluster };
  for (const key of Object.values(CLUSTER_FILE_KEYS)) {
    const value = flags[key];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      Object.assign(cluster, { [key]: value });
    }
  }
  return { ...checkConfig(merged), cluster: checkClusterConfig(cluster) };
}

interface FileConfig {
  settings: Partial<RawConfig>;
  cluster: ClusterSettings;
}

async function readConfigFile(file: string, required: boolean): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { settings: {}, cluster: {} };
    }
    throw new InvalidInputError(`--config: cannot read ${file}: ${messageOf(err)}`);
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 10 });
  } catch (err) {
    throw new InvalidInputError(`${file}: invalid YAML: ${messageOf(err)}`);
  }
  if (doc === null || doc === undefined) return { settings: {}, cluster: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InvalidInputError(`${file}: expected a mapping of settings`);
  }
  const out: Partial<RawConfig> = {};
  let cluster: ClusterSettings = {};
  for (const [key, value] of Object.entries(doc)) {
    const clusterSetting = clusterFileSetting(file, key, value);
    if (clusterSetting !== undefined) {
      cluster = { ...cluster, ...clusterSetting };
      continue;
    }
    const field = FILE_KEYS[key];
    if (field === undefined) {
      const known = [...Object.keys(FILE_KEYS), ...Object.keys(CLUSTER_FILE_KEYS)].join(', ');
      throw new InvalidInputError(`${file}: unknown setting '${key}' (known: ${known})`);
    }
    if (typeof value !== 'string' || value === '') {
      throw new InvalidInputError(`${file}: ${key}: expected a non-empty string`);
    }
    out[field] = value;
  }
  return { settings: out, cluster };
}

function definedOnly(flags: AgentFlags): Partial<RawConfig> {
  const out: Partial<RawConfig> = {};
  for (const field of Object.values(FILE_KEYS)) {
    const value = flags[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

function checkConfig(config: RawConfig): Omit<AgentConfig, 'cluster'> {
  for (const field of PATH_FIELDS) {
    if (!isAbsolute(config[field])) {
      throw new InvalidInputError(`${field}: expected an absolute path, got "${config[field]}"`);
    }
  }
  const logLevel = config.logLevel;
  if (!isLogLevel(logLevel)) {
    throw new InvalidInputError(
      `log level: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`,
    );
  }
  if (!/^[a-z0-9]([a-z0-9._-]{0,62})$/i.test(config.namespace)) {
    throw new InvalidInputError(
      `namespace: expected letters, digits, '.', '_' or '-' (at most 63), got "${config.namespace}"`,
    );
  }
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(config.bridge)) {
    throw new InvalidInputError(
      `bridge: expected an interface name of 1-15 letters, digits, '_', '.' or '-', got "${config.bridge}"`,
    );
  }
  if (config.subnet !== 'auto' && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(config.subnet)) {
    throw new InvalidInputError(
      `subnet: expected an IPv4 CIDR such as 10.213.0.0/16, or auto, got "${config.subnet}"`,
    );
  }
  if (isIP(config.publishAddress) === 0) {
    throw new InvalidInputError(
      `publish address: expected an IP address such as 0.0.0.0 or 127.0.0.1, got "${config.publishAddress}"`,
    );
  }
  if (parseSize(config.maxImport) === undefined) {
    throw new InvalidInputError(
      `max import: expected a size such as 32GiB, 512MiB or 1073741824, got "${config.maxImport}"`,
    );
  }
  return { ...config, logLevel };
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
