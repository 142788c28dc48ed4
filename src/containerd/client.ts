import type { VersionResponse } from '../gen/containerd/services/version/v1/version';
import { VersionService } from '../gen/containerd/services/version/v1/version';
import {
  ContainerdConnection,
  type CallOpts,
  type ContainerdConnectionOptions,
} from './connection';
import { ContainersApi } from './services/containers';
import { ContentApi } from './services/content';
import { DiffApi } from './services/diff';
import { EventsApi } from './services/events';
import { ImagesApi } from './services/images';
import { IntrospectionApi } from './services/introspection';
import { LeasesApi } from './services/leases';
import { NamespacesApi } from './services/namespaces';
import { SnapshotsApi } from './services/snapshots';
import { TasksApi } from './services/tasks';

/**
 * containerd's v1 API over one connection, one namespace: the thin typed layer that the image
 * store and the container runtime build on.
 */
export class ContainerdClient {
  readonly containers: ContainersApi;
  readonly content: ContentApi;
  readonly diff: DiffApi;
  readonly events: EventsApi;
  readonly images: ImagesApi;
  readonly introspection: IntrospectionApi;
  readonly leases: LeasesApi;
  readonly namespaces: NamespacesApi;
  readonly snapshots: SnapshotsApi;
  readonly tasks: TasksApi;

  constructor(readonly connection: ContainerdConnection) {
    this.containers = new ContainersApi(connection);
    this.content = new ContentApi(connection);
    this.diff = new DiffApi(connection);
    this.events = new EventsApi(connection);
    this.images = new ImagesApi(connection);
    this.introspection = new IntrospectionApi(connection);
    this.leases = new LeasesApi(connection);
    this.namespaces = new NamespacesApi(connection);
    this.snapshots = new SnapshotsApi(connection);
    this.tasks = new TasksApi(connection);
  }

  static connect(options: ContainerdConnectionOptions): ContainerdClient {
    return new ContainerdClient(new ContainerdConnection(options));
  }

  get namespace(): string {
    return this.connection.namespace;
  }

  get socket(): string {
    return this.connection.socket;
  }

  /** The daemon's version, e.g. `1.6.20~ds1`; also the cheapest "is it there" probe. */
  version(opts?: CallOpts): Promise<VersionResponse> {
    return this.connection.unary(VersionService.version, {}, opts);
  }

  /** Creates `name` (this client's namespace by default) unless it exists. */
  ensureNamespace(
    name: string = this.namespace,
    labels: Record<string, string> = {},
    opts?: CallOpts,
  ): Promise<void> {
    return this.namespaces.ensure(name, labels, opts);
  }

  close(): void {
    this.connection.close();
  }
}
