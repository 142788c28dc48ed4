import {
  Info,
  SnapshotsService,
  type UsageResponse,
} from '../../gen/containerd/services/snapshots/v1/snapshots';
import type { Mount } from '../../gen/containerd/types/mount';
import type { CallOpts, ContainerdConnection } from '../connection';
import { required } from '../connection';

export interface SnapshotRequest {
  snapshotter: string;
  key: string;
  /** Name of the committed snapshot to build on; empty for a base layer. */
  parent?: string;
  labels?: Record<string, string>;
}

export type SnapshotInfoInit = Parameters<typeof Info.fromPartial>[0];

/** A snapshotter's layers: active ones to write into, committed ones to build on. */
export class SnapshotsApi {
  constructor(private readonly conn: ContainerdConnection) {}

  /** A writable snapshot; returns the mounts that make it. */
  async prepare(request: SnapshotRequest, opts?: CallOpts): Promise<Mount[]> {
    const res = await this.conn.unary(SnapshotsService.prepare, fill(request), opts);
    return res.mounts;
  }

  /** A read-only view of `parent`. */
  async view(request: SnapshotRequest, opts?: CallOpts): Promise<Mount[]> {
    const res = await this.conn.unary(SnapshotsService.view, fill(request), opts);
    return res.mounts;
  }

  async mounts(snapshotter: string, key: string, opts?: CallOpts): Promise<Mount[]> {
    const res = await this.conn.unary(SnapshotsService.mounts, { snapshotter, key }, opts);
    return res.mounts;
  }

  /** Turns the active snapshot `key` into the committed snapshot `name`. */
  async commit(
    request: { snapshotter: string; key: string; name: string; labels?: Record<string, string> },
    opts?: CallOpts,
  ): Promise<void> {
    await this.conn.unary(SnapshotsService.commit, { labels: {}, ...request }, opts);
  }

  async remove(snapshotter: string, key: string, opts?: CallOpts): Promise<void> {
    await this.conn.unary(SnapshotsService.remove, { snapshotter, key }, opts);
  }

  async stat(snapshotter: string, key: string, opts?: CallOpts): Promise<Info> {
    const method = SnapshotsService.stat;
    const res = await this.conn.unary(method, { snapshotter, key }, opts);
    return required(res.info, method.path, 'info');
  }

  /** `updateMask` names what to change, e.g. `labels.budgie.app`. */
  async update(
    snapshotter: string,
    info: SnapshotInfoInit,
    updateMask: string[],
    opts?: CallOpts,
  ): Promise<Info> {
    const method = SnapshotsService.update;
    const request = { snapshotter, info: Info.fromPartial(info), updateMask };
    const res = await this.conn.unary(method, request, opts);
    return required(res.info, method.path, 'info');
  }

  async list(snapshotter: string, filters: string[] = [], opts?: CallOpts): Promise<Info[]> {
    const infos: Info[] = [];
    const stream = this.conn.serverStream(SnapshotsService.list, { snapshotter, filters }, opts);
    for await (const page of stream) infos.push(...page.info);
    return infos;
  }

  async usage(snapshotter: string, key: string, opts?: CallOpts): Promise<UsageResponse> {
    return this.conn.unary(SnapshotsService.usage, { snapshotter, key }, opts);
  }
}

function fill(request: SnapshotRequest): Required<SnapshotRequest> {
  return { parent: '', labels: {}, ...request };
}
