import type { ImageSource } from '../bundle/types';
import { NotFoundError } from '../errors';
import type { ImageOperation, ImageStore } from '../runtime/images';
import type { ImageEnsurer } from './types';

/**
 * Images for apps: a registry image already on the node is used as is (no registry round trip,
 * so apps restart offline); a missing one is pulled. An archive is imported.
 */
export function storeEnsurer(store: ImageStore): ImageEnsurer {
  return {
    async ensure(source: ImageSource, op: ImageOperation): Promise<string> {
      if (source.kind === 'archive') {
        const [first] = await store.importArchive(source.path, op);
        if (first === undefined) throw new NotFoundError(`${source.path} holds no image`);
        return first.name;
      }
      const present = await store.find(source.reference, op.signal);
      if (present !== undefined) return present;
      return (await store.pull(source.reference, op)).name;
    },
  };
}
