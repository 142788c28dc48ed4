import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { credentials, Metadata, type CallOptions } from '@grpc/grpc-js';
import type { App } from '../bundle/types';
import {
  BudgieError,
  InvalidInputError,
  messageOf,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../errors';
import {
  AppServiceClient,
  type ListReplicasResponse,
  type LogsResponse,
  type RemoveReplicasResponse,
  type Replica,
  type RunAppResponse,
  type ScaleAppResponse,
  type StopAppResponse,
} from '../gen/budgie/v1/apps';
import {
  ImageServiceClient,
  type Image,
  type ImportImageResponse,
  type ListImagesResponse,
  type RemoveImageResponse,
  type PullImageResponse,
} from '../gen/budgie/v1/images';
import {
  ChirpServiceClient,
  type ChirpResponse,
  type JoinAppResponse,
  type VolumeMapping,
} from '../gen/budgie/v1/chirp';
import { NodeServiceClient, type GetInfoResponse } from '../gen/budgie/v1/node';
import { errorMapper, streamOf, unary, type ErrorMapper } from '../rpc/calls';

export const DEFAULT_SOCKET = '/run/budgie/budgie.sock';

/** Chunks of an imported archive: large enough to keep the stream cheap, small for flow control. */
const IMPORT_CHUNK = 256 * 1024;

/** Deadlines of unary calls. Stopping waits for the app's stop timeout (at most minutes) and more. */
const DEADLINE_MS = { info: 5_000, list: 10_000, remove: 30_000, stop: 300_000, scale: 300_000 };

export interface LogsOptions {
  /** A replica ID, a unique prefix of one, or an app name. */
  target: string;
  follow: boolean;
  /** Lines from the end of each log to start with; 0 means all. */
  tail: number;
  /** Only output written at or after this time (unix ms); 0 means all. */
  sinceUnixMs: number;
}

/**
 * The CLI's only way to the agent: budgie.v1 over the agent's unix socket. Every method returns
 * Budgie types or generated budgie.v1 messages and throws Budgie errors.
 */
export class AgentClient {
  private readonly node: NodeServiceClient;
  private readonly images: ImageServiceClient;
  private readonly apps: AppServiceClient;
  private readonly chirps: ChirpServiceClient;
  private readonly mapError: ErrorMapper;

  constructor(readonly socket: string) {
    const target = `unix://${socket}`;
    const creds = credentials.createInsecure();
    this.node = new NodeServiceClient(target, creds);
    this.images = new ImageServiceClient(target, creds);
    this.apps = new AppServiceClient(target, creds);
    this.chirps = new ChirpServiceClient(target, creds);
    this.mapError = errorMapper(
      () =>
        new UnavailableError(
          `no Budgie agent answers at ${socket}: start one with 'budgie agent' (as root), ` +
            `or point --socket or BUDGIE_SOCKET at a running one`,
        ),
    );
  }

  info(signal?: AbortSignal): Promise<GetInfoResponse> {
    return unary(this.mapError, (done) => {
      const call = this.node.getInfo({}, new Metadata(), this.options(DEADLINE_MS.info), done);
      signal?.addEventListener(
        'abort',
        () => {
          call.cancel();
        },
        { once: true },
      );
    });
  }

  pullImage(reference: string, signal?: AbortSignal): AsyncGenerator<PullImageResponse> {
    const call = this.images.pullImage({ reference }, new Metadata(), this.options());
    cancelOnAbort(call, signal);
    return streamOf(this.mapError, call);
  }

  /** Streams a local archive to the agent, which may run on another machine. */
  importImage(file: string, signal?: AbortSignal): AsyncGenerator<ImportImageResponse> {
    const call = this.images.importImage(new Metadata(), this.options());
    cancelOnAbort(call, signal);
    const source = createReadStream(file, { highWaterMark: IMPORT_CHUNK });
    const fileName = basename(file);
    const send = async (): Promise<void> => {
      for await (const chunk of source) {
        if (!Buffer.isBuffer(chunk)) continue;
        if (!call.write({ fileName, data: chunk })) {
          await new Promise((resolve) => call.once('drain', resolve));
        }
      }
      call.end();
    };
    send().catch((err: unknown) => {
      call.destroy(archiveError(file, err));
    });
    return streamOf<ImportImageResponse>(this.mapError, call);
  }

  async listImages(): Promise<Image[]> {
    const res = await unary<ListImagesResponse>(this.mapError, (done) =>
      this.images.listImages({}, new Metadata(), this.options(DEADLINE_MS.list), done),
    );
    return res.images;
  }

  async removeImage(reference: string): Promise<void> {
    await unary<RemoveImageResponse>(this.mapError, (done) =>
      this.images.removeImage(
        { reference },
        new Metadata(),
        this.options(DEADLINE_MS.remove),
        done,
      ),
    );
  }

  /** Sends a normalised app (its image a registry reference) and streams the agent's progress. */
  runApp(
    app: App,
    options: { detach: boolean },
    signal?: AbortSignal,
  ): AsyncGenerator<RunAppResponse> {
    const request = { appJson: JSON.stringify(app), detach: options.detach };
    const call = this.apps.runApp(request, new Metadata(), this.options());
    cancelOnAbort(call, signal);
    return streamOf(this.mapError, call);
  }

  async listReplicas(filter: { all: boolean; app?: string }): Promise<Replica[]> {
    const request = { all: filter.all, app: filter.app ?? '' };
    const res = await unary<ListReplicasResponse>(this.mapError, (done) =>
      this.apps.listReplicas(request, new Metadata(), this.options(DEADLINE_MS.list), done),
    );
    return res.replicas;
  }

  /** Stops a replica (ID or unique prefix) or a whole app (name). */
  /** `here`: only this node's part, not the members'. */
  stopApp(target: string, here = false): Promise<StopAppResponse> {
    return unary<StopAppResponse>(this.mapError, (done) =>
      this.apps.stopApp({ target, here }, new Metadata(), this.options(DEADLINE_MS.stop), done),
    );
  }

  /**
   * Removes exited replicas: one (ID or unique prefix) or all of an app (name); `force` stops
   * what still runs first, as `stopApp` does.
   */
  removeReplicas(target: string, force: boolean): Promise<RemoveReplicasResponse> {
    return unary<RemoveReplicasResponse>(this.mapError, (done) =>
      this.apps.removeReplicas(
        { target, force },
        new Metadata(),
        this.options(DEADLINE_MS.stop),
        done,
      ),
    );
  }

  /** Returns the number of replicas the app now runs. */
  async scaleApp(app: string, replicas: number): Promise<number> {
    const res = await unary<ScaleAppResponse>(this.mapError, (done) =>
      this.apps.scaleApp({ app, replicas }, new Metadata(), this.options(DEADLINE_MS.scale), done),
    );
    return res.replicas;
  }

  logs(options: LogsOptions, signal?: AbortSignal): AsyncGenerator<LogsResponse> {
    const call = this.apps.logs({ ...options }, new Metadata(), this.options());
    cancelOnAbort(call, signal);
    return streamOf(this.mapError, call);
  }

  /**
   * The cluster's replicas; `timeoutMs` (0: the agent's default) bounds the wait for members, and
   * the call's own deadline allows for it.
   */
  chirp(options: { timeoutMs: number; all: boolean }): Promise<ChirpResponse> {
    const deadline = DEADLINE_MS.list + options.timeoutMs;
    return unary<ChirpResponse>(this.mapError, (done) =>
      this.chirps.chirp({ ...options }, new Metadata(), this.options(deadline), done),
    );
  }

  /**
   * `budgie chirp ID`: joins an app of a member as a replica on this node, with progress;
   * `volumeMap` says where each ro volume comes from on this machine.
   */
  joinApp(
    target: string,
    volumeMap: VolumeMapping[],
    signal?: AbortSignal,
  ): AsyncGenerator<JoinAppResponse> {
    const call = this.chirps.joinApp({ target, volumeMap }, new Metadata(), this.options());
    cancelOnAbort(call, signal);
    return streamOf(this.mapError, call);
  }

  close(): void {
    this.chirps.close();
    this.node.close();
    this.images.close();
    this.apps.close();
  }

  private options(timeoutMs?: number): Partial<CallOptions> {
    return timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
  }
}

/** Ctrl-C in the CLI cancels the agent's work too (the agent sees the call cancelled). */
function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) call.cancel();
  else
    signal.addEventListener(
      'abort',
      () => {
        call.cancel();
      },
      { once: true },
    );
}

/** A local archive that cannot be read is the user's to fix, not a bug: say which file and why. */
function archiveError(file: string, err: unknown): BudgieError {
  if (err instanceof BudgieError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  if (code === 'ENOENT') return new NotFoundError(`${file}: no such image archive`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new PermissionDeniedError(`${file}: permission denied`);
  }
  return new InvalidInputError(`${file}: cannot read the image archive: ${messageOf(err)}`);
}
