import {
  LeasesService,
  type Lease,
  type Resource,
} from '../../gen/containerd/services/leases/v1/leases';
import type { CallOpts, ContainerdConnection } from '../connection';
import { required } from '../connection';

/**
 * Leases protect content and snapshots from garbage collection while an image is being assembled:
 * create one, pass its id as `lease` in the CallOpts of the writes, delete it when the image record
 * holds everything.
 */
export class LeasesApi {
  constructor(private readonly conn: ContainerdConnection) {}

  /** `id` empty lets containerd choose; label `containerd.io/gc.expire` (RFC 3339) bounds its life. */
  async create(id: string, labels: Record<string, string> = {}, opts?: CallOpts): Promise<Lease> {
    const method = LeasesService.create;
    const res = await this.conn.unary(method, { id, labels }, opts);
    return required(res.lease, method.path, 'lease');
  }

  async delete(id: string, options: { sync?: boolean } & CallOpts = {}): Promise<void> {
    await this.conn.unary(LeasesService.delete, { id, sync: options.sync ?? false }, options);
  }

  async list(filters: string[] = [], opts?: CallOpts): Promise<Lease[]> {
    const res = await this.conn.unary(LeasesService.list, { filters }, opts);
    return res.leases;
  }

  /** `resource.type` is `content` or `snapshots/<snapshotter>`. */
  async addResource(id: string, resource: Resource, opts?: CallOpts): Promise<void> {
    await this.conn.unary(LeasesService.addResource, { id, resource }, opts);
  }

  async deleteResource(id: string, resource: Resource, opts?: CallOpts): Promise<void> {
    await this.conn.unary(LeasesService.deleteResource, { id, resource }, opts);
  }

  async listResources(id: string, opts?: CallOpts): Promise<Resource[]> {
    const res = await this.conn.unary(LeasesService.listResources, { id }, opts);
    return res.resources;
  }
}
