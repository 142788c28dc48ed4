import { createHash } from 'node:crypto';

/**
 * The chain IDs of an image's layers (OCI image-spec, config.md "Layer ChainID"): the first is the
 * first diff ID, each next one is sha256 of "<previous chain ID> <diff ID>". Snapshotters name
 * committed layers by them, so equal layer stacks are shared between images.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const ids: string[] = [];
  let previous: string | undefined;
  for (const diffId of diffIds) {
    previous =
      previous === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}`;
    ids.push(previous);
  }
  return ids;
}
