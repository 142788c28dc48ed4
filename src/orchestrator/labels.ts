import { createHash, randomBytes } from 'node:crypto';
import type { App } from '../bundle/types';

/** Labels on every container Budgie makes: containerd is the truth, these let us find our own. */
export const LABEL_APP = 'budgie.app';
export const LABEL_SPEC = 'budgie.spec-hash';
export const LABEL_NODE = 'budgie.node';

/**
 * A hash of what a replica is made from. Scale and replicas min/max are left out: changing them
 * rescales, it does not replace running replicas.
 */
export function specHash(app: App, imageName: string): string {
  const spec = { ...app, replicas: undefined };
  return createHash('sha256')
    .update(JSON.stringify({ spec, imageName }))
    .digest('hex')
    .slice(0, 16);
}

/** 64-hex like Docker's container IDs; random, so IDs are never reused. */
export function newReplicaId(): string {
  return randomBytes(32).toString('hex');
}

export const shortId = (id: string): string => id.slice(0, 12);
