import {
  Container,
  ContainersService,
} from '../../gen/containerd/services/containers/v1/containers';
import { required, type CallOpts, type ContainerdConnection } from '../connection';

export type ContainerInit = Parameters<typeof Container.fromPartial>[0];

/** containerd's container records (metadata only; the running part is a task). */
export class ContainersApi {
  constructor(private readonly conn: ContainerdConnection) {}

  async get(id: string, opts?: CallOpts): Promise<Container> {
    const method = ContainersService.get;
    const res = await this.conn.unary(method, { id }, opts);
    return required(res.container, method.path, 'container');
  }

  /** Filters are containerd filter expressions (`labels."budgie.app"==web`); any one may match. */
  async list(filters: string[] = [], opts?: CallOpts): Promise<Container[]> {
    const res = await this.conn.unary(ContainersService.list, { filters }, opts);
    return res.containers;
  }

  async create(container: ContainerInit, opts?: CallOpts): Promise<Container> {
    const method = ContainersService.create;
    const res = await this.conn.unary(
      method,
      { container: Container.fromPartial(container) },
      opts,
    );
    return required(res.container, method.path, 'container');
  }

  /** `updateMask` names the fields to change (e.g. `labels`, `spec`); empty changes all. */
  async update(
    container: ContainerInit,
    updateMask: string[],
    opts?: CallOpts,
  ): Promise<Container> {
    const method = ContainersService.update;
    const request = { container: Container.fromPartial(container), updateMask };
    const res = await this.conn.unary(method, request, opts);
    return required(res.container, method.path, 'container');
  }

  async delete(id: string, opts?: CallOpts): Promise<void> {
    await this.conn.unary(ContainersService.delete, { id }, opts);
  }
}
