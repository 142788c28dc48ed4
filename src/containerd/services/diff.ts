import { ApplyRequest, DiffRequest, DiffService } from '../../gen/containerd/services/diff/v1/diff';
import type { Descriptor } from '../../gen/containerd/types/descriptor';
import type { CallOpts, ContainerdConnection } from '../connection';
import { required } from '../connection';

export type ApplyInit = Parameters<typeof ApplyRequest.fromPartial>[0];
export type DiffInit = Parameters<typeof DiffRequest.fromPartial>[0];

/** Unpacking a large layer takes a while: the default deadline is generous. */
const APPLY_TIMEOUT_MS = 10 * 60_000;

/** containerd's differ: applies layer blobs onto snapshot mounts, and computes diffs. */
export class DiffApi {
  constructor(private readonly conn: ContainerdConnection) {}

  /** Unpacks the layer `diff` onto `mounts`; returns the uncompressed layer (digest = diff ID). */
  async apply(request: ApplyInit, opts: CallOpts = {}): Promise<Descriptor> {
    const method = DiffService.apply;
    const res = await this.conn.unary(method, ApplyRequest.fromPartial(request), {
      ...opts,
      timeoutMs: opts.timeoutMs ?? APPLY_TIMEOUT_MS,
    });
    return required(res.applied, method.path, 'applied');
  }

  async diff(request: DiffInit, opts: CallOpts = {}): Promise<Descriptor> {
    const method = DiffService.diff;
    const res = await this.conn.unary(method, DiffRequest.fromPartial(request), {
      ...opts,
      timeoutMs: opts.timeoutMs ?? APPLY_TIMEOUT_MS,
    });
    return required(res.diff, method.path, 'diff');
  }
}
