import {
  IntrospectionService,
  type Plugin,
} from '../../gen/containerd/services/introspection/v1/introspection';
import type { CallOpts, ContainerdConnection } from '../connection';

/** What the daemon loaded, e.g. whether the overlayfs snapshotter initialised. */
export class IntrospectionApi {
  constructor(private readonly conn: ContainerdConnection) {}

  /** Filters like `type==io.containerd.snapshotter.v1,id==overlayfs`; any one may match. */
  async plugins(filters: string[] = [], opts?: CallOpts): Promise<Plugin[]> {
    const res = await this.conn.unary(IntrospectionService.plugins, { filters }, opts);
    return res.plugins;
  }

  /** The daemon's UUID, stable across restarts of the same root. */
  async serverUuid(opts?: CallOpts): Promise<string> {
    const res = await this.conn.unary(IntrospectionService.server, {}, opts);
    return res.uuid;
  }
}
