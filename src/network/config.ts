import { type Cidr, formatCidr } from './cidr';
import { networkName } from './naming';

/** A CNI network configuration list (conflist): plugins run in order on ADD, reversed on DEL. */
export interface NetworkList {
  cniVersion: string;
  name: string;
  plugins: PluginConfig[];
}

/** One plugin's configuration; `type` names the plugin binary, the rest is for the plugin. */
export interface PluginConfig {
  type: string;
  [key: string]: unknown;
}

/** One network a replica joins: which interface inside the namespace, configured by which list. */
export interface Attachment {
  ifName: string;
  list: NetworkList;
}

export interface BridgeSettings {
  bridge: string;
  subnet: Cidr;
  /** host-local's lease directory. */
  ipamDir: string;
}

export function loopbackList(cniVersion: string): NetworkList {
  return { cniVersion, name: 'budgie-loopback', plugins: [{ type: 'loopback' }] };
}

/** The replica's network: a veth into the node bridge, an address from host-local, NAT out. */
export function bridgeList(cniVersion: string, settings: BridgeSettings): NetworkList {
  return {
    cniVersion,
    name: networkName(settings.bridge),
    plugins: [
      {
        type: 'bridge',
        bridge: settings.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: formatCidr(settings.subnet) }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: settings.ipamDir,
        },
      },
    ],
  };
}

/** What a replica joins, in ADD order: loopback first, then the bridge network on eth0. */
export function attachments(cniVersion: string, settings: BridgeSettings): Attachment[] {
  return [
    { ifName: 'lo', list: loopbackList(cniVersion) },
    { ifName: 'eth0', list: bridgeList(cniVersion, settings) },
  ];
}

/**
 * The stdin of one plugin call, as libcni builds it for a list: the list's version and name, the
 * plugin's own keys, and the previous result (the cached ADD result, on DEL) when there is one.
 */
export function pluginInput(list: NetworkList, plugin: PluginConfig, prevResult?: unknown): string {
  const config: Record<string, unknown> = {
    ...plugin,
    cniVersion: list.cniVersion,
    name: list.name,
  };
  if (prevResult !== undefined) config['prevResult'] = prevResult;
  return JSON.stringify(config);
}
