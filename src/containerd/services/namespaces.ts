import {
  NamespacesService,
  type Namespace,
} from '../../gen/containerd/services/namespaces/v1/namespace';
import { ConflictError } from '../../errors';
import type { CallOpts, ContainerdConnection } from '../connection';
import { required } from '../connection';

/** containerd namespaces; Budgie keeps everything it owns in one. */
export class NamespacesApi {
  constructor(private readonly conn: ContainerdConnection) {}

  async get(name: string, opts?: CallOpts): Promise<Namespace> {
    const method = NamespacesService.get;
    const res = await this.conn.unary(method, { name }, opts);
    return required(res.namespace, method.path, 'namespace');
  }

  async list(opts?: CallOpts): Promise<Namespace[]> {
    const res = await this.conn.unary(NamespacesService.list, { filter: '' }, opts);
    return res.namespaces;
  }

  async create(
    name: string,
    labels: Record<string, string> = {},
    opts?: CallOpts,
  ): Promise<Namespace> {
    const method = NamespacesService.create;
    const res = await this.conn.unary(method, { namespace: { name, labels } }, opts);
    return required(res.namespace, method.path, 'namespace');
  }

  /** Creates the namespace unless it exists; an existing one keeps its labels. */
  async ensure(name: string, labels: Record<string, string> = {}, opts?: CallOpts): Promise<void> {
    try {
      await this.create(name, labels, opts);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  /** Fails with FailedPreconditionError while the namespace still holds anything. */
  async delete(name: string, opts?: CallOpts): Promise<void> {
    await this.conn.unary(NamespacesService.delete, { name }, opts);
  }
}
