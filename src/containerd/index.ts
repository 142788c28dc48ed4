import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '../errors';
import type { Logger } from '../log';
import { ContainerdClient } from './client';
import { ContainerdRuntime } from './container-runtime';
import { ContainerdImageStore } from './image-store';

export { ContainerdClient } from './client';
export { ContainerdImageStore } from './image-store';

export interface ContainerdBackendOptions {
  socket: string;
  namespace: string;
  log: Logger;
}

/** Snapshotters in order of preference: overlayfs where the kernel has it, else plain copies. */
const SNAPSHOTTERS = ['overlayfs', 'native'] as const;
const RETRY_MS = 1000;

/**
 * Everything the agent needs from containerd, behind Budgie's runtime interfaces: one client,
 * the snapshotter chosen once containerd answers, and the image store built on them.
 */
export class ContainerdBackend {
  readonly client: ContainerdClient;
  private chosenSnapshotter: string | undefined;
  private imageStore: ContainerdImageStore | undefined;
  private containerRuntime: ContainerdRuntime | undefined;

  constructor(private readonly options: ContainerdBackendOptions) {
    this.client = ContainerdClient.connect({
      socket: options.socket,
      namespace: options.namespace,
    });
  }

  /**
   * Waits until containerd answers (it may start after the agent, as at boot), then creates the
   * namespace and picks the snapshotter. Retries until `signal` aborts.
   */
  async ready(signal: AbortSignal): Promise<void> {
    let warned = false;
    for (;;) {
      try {
        await this.client.version({ signal });
        break;
      } catch (err) {
        if (!(err instanceof UnavailableError) || signal.aborted) throw err;
        if (!warned) {
          this.options.log.warn('waiting for containerd', { socket: this.options.socket });
          warned = true;
        }
        await sleep(RETRY_MS, undefined, { signal });
      }
    }
    await this.client.ensureNamespace(this.options.namespace, {}, { signal });
    this.chosenSnapshotter = await this.pickSnapshotter(signal);
    this.imageStore = new ContainerdImageStore({
      client: this.client,
      snapshotter: this.chosenSnapshotter,
      log: this.options.log.child({ component: 'images' }),
    });
    this.containerRuntime = new ContainerdRuntime(this.client, {
      snapshotter: this.chosenSnapshotter,
      log: this.options.log.child({ component: 'runtime' }),
    });
  }

  get snapshotter(): string {
    return this.readyValue(this.chosenSnapshotter);
  }

  get images(): ContainerdImageStore {
    return this.readyValue(this.imageStore);
  }

  get runtime(): ContainerdRuntime {
    return this.readyValue(this.containerRuntime);
  }

  async version(signal: AbortSignal): Promise<string> {
    return (await this.client.version({ signal })).version;
  }

  close(): void {
    this.client.close();
  }

  private async pickSnapshotter(signal: AbortSignal): Promise<string> {
    const plugins = await this.client.introspection.plugins(
      ['type==io.containerd.snapshotter.v1'],
      {
        signal,
      },
    );
    const working = new Set(plugins.filter((p) => p.initErr === undefined).map((p) => p.id));
    const chosen = SNAPSHOTTERS.find((s) => working.has(s));
    if (chosen === undefined) {
      throw new UnavailableError(
        `containerd at ${this.options.socket} has neither the overlayfs nor the native snapshotter`,
      );
    }
    return chosen;
  }

  private readyValue<T>(value: T | undefined): T {
    if (value === undefined) {
      throw new UnavailableError(`containerd at ${this.options.socket} has not answered yet`);
    }
    return value;
  }
}
