import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { credentials, Metadata, type CallOptions } from '@grpc/grpc-js';
import { UnavailableError } from '../errors';
import {
  ImageServiceClient,
  type Image,
  type ImportImageResponse,
  type ListImagesResponse,
  type RemoveImageResponse,
  type PullImageResponse,
} from '../gen/budgie/v1/images';
import { NodeServiceClient, type GetInfoResponse } from '../gen/budgie/v1/node';
import { errorMapper, streamOf, unary, type ErrorMapper } from './calls';

export const DEFAULT_SOCKET = '/run/budgie/budgie.sock';

/** Chunks of an imported archive: large enough to keep the stream cheap, small for flow control. */
const IMPORT_CHUNK = 256 * 1024;

/**
 * The CLI's only way to the agent: budgie.v1 over the agent's unix socket. Every method returns
 * Budgie types or generated budgie.v1 messages and throws Budgie errors.
 */
export class AgentClient {
  private readonly node: NodeServiceClient;
  private readonly images: ImageServiceClient;
  private readonly mapError: ErrorMapper;

  constructor(readonly socket: string) {
    const target = `unix://${socket}`;
    const creds = credentials.createInsecure();
    this.node = new NodeServiceClient(target, creds);
    this.images = new ImageServiceClient(target, creds);
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
      const call = this.node.getInfo({}, new Metadata(), this.options(5000), done);
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
      call.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    return streamOf<ImportImageResponse>(this.mapError, call);
  }

  async listImages(): Promise<Image[]> {
    const res = await unary<ListImagesResponse>(this.mapError, (done) =>
      this.images.listImages({}, new Metadata(), this.options(10000), done),
    );
    return res.images;
  }

  async removeImage(reference: string): Promise<void> {
    await unary<RemoveImageResponse>(this.mapError, (done) =>
      this.images.removeImage({ reference }, new Metadata(), this.options(30000), done),
    );
  }

  close(): void {
    this.node.close();
    this.images.close();
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
