import { join } from 'node:path';
import { InvalidInputError, messageOf, PermissionDeniedError } from '../errors';
import type { Logger } from '../log';
import { type Cidr, parseCidr } from './cidr';
import { attachments } from './config';
import type { NetworkHost } from './host';
import { KeyedLock } from './keyed-lock';
import { checkBridgeName, checkReplicaId, netnsName, netnsPrefix } from './naming';
import { PluginRunner } from './plugins';
import { type ReplicaRecord, RecordStore } from './records';
import { decodeResult, replicaNetworkFrom } from './result';
import { parseProcRoutes } from './routes';
import { chooseSubnet } from './subnet';
import { systemHost } from './system-host';
import type { Network, ReplicaNetwork } from './types';

export interface CniNetworkOptions {
  /** The agent's state dir: leases go to `cni/ipam`, per-replica records to `cni/replicas`. */
  stateDir: string;
  /** Names this node's namespaces (hashed), so nodes sharing a host never collide. */
  nodeName: string;
  /** The host bridge; at most 15 characters. Default `budgie0`. */
  bridge?: string;
  /** The replicas' IPv4 subnet; default the first /16 from 10.213.0.0/16 up that no host route uses. */
  subnet?: string;
  /** Where the plugin binaries are, searched in order. Default /usr/lib/cni, /opt/cni/bin. */
  pluginDirs?: string[];
  /** How long one plugin call may take before it is killed. Default 60 s. */
  pluginTimeoutMs?: number;
  log: Logger;
  /** The host to act on; tests pass a fake. */
  host?: NetworkHost;
}

export const DEFAULT_PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
const PLUGINS = ['loopback', 'bridge', 'host-local'];

/** Replica networking with the standard CNI plugins: loopback, then bridge + host-local. */
export class CniNetwork implements Network {
  private readonly host: NetworkHost;
  private readonly log: Logger;
  private readonly nodeName: string;
  private readonly bridge: string;
  private readonly subnet: Cidr | undefined;
  private readonly ipamDir: string;
  private readonly records: RecordStore;
  private readonly plugins: PluginRunner;
  private readonly locks = new KeyedLock();
  private version: Promise<string> | undefined;

  constructor(options: CniNetworkOptions) {
    this.host = options.host ?? systemHost();
    this.log = options.log.child({ component: 'network' });
    this.nodeName = options.nodeName;
    this.bridge = options.bridge ?? 'budgie0';
    checkBridgeName(this.bridge);
    this.subnet = options.subnet === undefined ? undefined : parseCidr(options.subnet);
    if (options.subnet !== undefined && this.subnet === undefined) {
      throw new InvalidInputError(
        `network subnet ${JSON.stringify(options.subnet)} is not an IPv4 network like 10.213.0.0/16`,
      );
    }
    this.ipamDir = join(options.stateDir, 'cni', 'ipam');
    this.records = new RecordStore(join(options.stateDir, 'cni', 'replicas'));
    this.plugins = new PluginRunner(
      this.host,
      options.pluginDirs ?? DEFAULT_PLUGIN_DIRS,
      options.pluginTimeoutMs ?? 60_000,
    );
  }

  async attach(replicaId: string, signal?: AbortSignal): Promise<ReplicaNetwork> {
    checkReplicaId(replicaId);
    this.requirePrivilege('attach');
    return await this.locks.run(replicaId, () => this.attachNow(replicaId, signal));
  }

  async detach(replicaId: string): Promise<void> {
    checkReplicaId(replicaId);
    this.requirePrivilege('detach');
    await this.locks.run(replicaId, () => this.detachNow(replicaId));
  }

  async list(): Promise<string[]> {
    const ids = await this.records.ids();
    const known = new Set(ids.map((id) => netnsName(this.nodeName, id)));
    const prefix = netnsPrefix(this.nodeName);
    const orphans = (await this.host.netns.list()).filter(
      (n) => n.startsWith(prefix) && !known.has(n),
    );
    if (orphans.length > 0) {
      this.log.warn('network namespaces of this node without a record; remove them by hand', {
        netns: orphans,
      });
    }
    return ids;
  }

  private async attachNow(replicaId: string, signal?: AbortSignal): Promise<ReplicaNetwork> {
    signal?.throwIfAborted();
    const existing = await this.records.read(replicaId);
    if (existing !== undefined) {
      const network = await this.reuse(existing);
      if (network !== undefined) return network;
      this.log.debug('undoing an unfinished attach', { replica: replicaId });
      await this.teardown(existing);
    }
    const record = await this.plan(replicaId);
    signal?.throwIfAborted();
    await this.records.write(record);
    try {
      await this.host.netns.add(record.netns);
      for (const attachment of record.attachments) {
        const target = { replicaId, netnsPath: record.netnsPath, ifName: attachment.ifName };
        attachment.result = await this.plugins.add(attachment.list, target, signal);
        await this.records.write(record);
      }
      const network = this.networkOf(record);
      this.log.debug('attached', { replica: replicaId, ip: network.ip, netns: record.netns });
      return network;
    } catch (err) {
      await this.rollback(record);
      if (signal?.aborted === true) throw signal.reason;
      throw err;
    }
  }

  /** The namespace and configurations for a new attach; nothing is created yet. */
  private async plan(replicaId: string): Promise<ReplicaRecord> {
    if (this.version === undefined) {
      this.version = this.plugins.negotiateVersion(PLUGINS);
      this.version.catch(() => (this.version = undefined)); // plugins fixed later: ask again
    }
    const version = await this.version;
    const routes = parseProcRoutes(await this.host.readRoutes());
    const subnet = chooseSubnet(routes, this.bridge, this.subnet);
    const netns = netnsName(this.nodeName, replicaId);
    return {
      replicaId,
      netns,
      netnsPath: join(this.host.netns.dir, netns),
      attachments: attachments(version, { bridge: this.bridge, subnet, ipamDir: this.ipamDir }),
    };
  }

  /** The recorded network when the earlier attach finished and its namespace still exists. */
  private async reuse(record: ReplicaRecord): Promise<ReplicaNetwork | undefined> {
    if (record.attachments.some((a) => a.result === undefined)) return undefined;
    if (!(await this.host.netns.list()).includes(record.netns)) return undefined;
    return this.networkOf(record);
  }

  private networkOf(record: ReplicaRecord): ReplicaNetwork {
    const last = record.attachments[record.attachments.length - 1];
    const result = decodeResult(last?.result) ?? { cniVersion: 'none' };
    const bridge = last?.list.plugins[0]?.['bridge'];
    return replicaNetworkFrom(result, {
      replicaId: record.replicaId,
      netnsPath: record.netnsPath,
      ifName: last?.ifName ?? 'eth0',
      bridge: typeof bridge === 'string' ? bridge : this.bridge,
    });
  }

  private async detachNow(replicaId: string): Promise<void> {
    const record = await this.records.read(replicaId);
    if (record !== undefined) {
      await this.teardown(record);
      this.log.debug('detached', { replica: replicaId, netns: record.netns });
      return;
    }
    await this.host.netns.remove(netnsName(this.nodeName, replicaId));
  }

  /** CNI DEL (reverse order, cached results), then the namespace, then the record. */
  private async teardown(record: ReplicaRecord): Promise<void> {
    for (const attachment of [...record.attachments].reverse()) {
      const target = {
        replicaId: record.replicaId,
        netnsPath: record.netnsPath,
        ifName: attachment.ifName,
      };
      await this.plugins.del(attachment.list, target, attachment.result);
    }
    await this.host.netns.remove(record.netns);
    await this.records.remove(record.replicaId);
  }

  /** Undoes a failed attach; what cannot be undone stays recorded for a later detach. */
  private async rollback(record: ReplicaRecord): Promise<void> {
    try {
      await this.teardown(record);
    } catch (err) {
      this.log.warn('could not undo a failed attach; detach will retry', {
        replica: record.replicaId,
        error: messageOf(err),
      });
    }
  }

  private requirePrivilege(action: string): void {
    if (!this.host.isPrivileged()) {
      throw new PermissionDeniedError(
        `network ${action} needs root (network namespaces, bridge, iptables): run the agent as root`,
      );
    }
  }
}
