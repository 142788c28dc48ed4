/** Per-replica networking: a named network namespace per replica on a node bridge, via CNI. */
export { CniNetwork, type CniNetworkOptions, DEFAULT_PLUGIN_DIRS } from './cni-network';
export type { NetnsHost, NetworkHost, PluginCall, PluginExit } from './host';
export { systemHost } from './system-host';
export type { Network, ReplicaNetwork } from './types';
