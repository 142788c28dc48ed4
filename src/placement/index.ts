/**
 * Placement across the cluster: keeping each app's replicas.min while members are gone, with a
 * choice every member computes alike (no leader), and giving the extra replicas back on return.
 */
export { standInTargets, type MemberCounts } from './decide';
export { ReplicaKeeper, type KeeperSources, type ReplicaKeeperOptions } from './keeper';
