import { InvalidInputError } from '../errors';
import {
  VolumeEntryType,
  type SnapshotResponse,
  type VolumeEntry as WireEntry,
} from '../gen/budgie/peer/v1/peer';
import type { SnapshotItem, VolumeEntry, VolumeEntryKind } from './snapshot-types';

/** Snapshot items as budgie.peer.v1 sends them, both ways; what a member sends is checked. */
const TYPE: Record<VolumeEntryKind, VolumeEntryType> = {
  file: VolumeEntryType.VOLUME_ENTRY_TYPE_FILE,
  dir: VolumeEntryType.VOLUME_ENTRY_TYPE_DIR,
  symlink: VolumeEntryType.VOLUME_ENTRY_TYPE_SYMLINK,
};
const KIND = new Map(Object.entries(TYPE).map(([k, v]) => [v, k as VolumeEntryKind]));

export function toSnapshotResponse(item: SnapshotItem): SnapshotResponse {
  if ('data' in item) return { item: { $case: 'data', value: item.data } };
  const { kind, mtimeMs, ...rest } = item.entry;
  return { item: { $case: 'entry', value: { ...rest, type: TYPE[kind], mtimeUnixMs: mtimeMs } } };
}

/** A member's snapshot message; undefined for an empty one (nothing to write). */
export function fromSnapshotResponse(message: SnapshotResponse): SnapshotItem | undefined {
  const item = message.item;
  if (item === undefined) return undefined;
  if (item.$case === 'data') return { data: item.value };
  return { entry: entryOf(item.value) };
}

function entryOf(e: WireEntry): VolumeEntry {
  const kind = KIND.get(e.type);
  if (kind === undefined) {
    throw new InvalidInputError(`volume snapshot: ${e.path} has an unknown type`);
  }
  return {
    path: e.path,
    kind,
    mode: e.mode,
    mtimeMs: e.mtimeUnixMs,
    size: e.size,
    linkTarget: e.linkTarget,
  };
}
