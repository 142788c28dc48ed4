import {
  ContentService,
  Info,
  type Status,
} from '../../gen/containerd/services/content/v1/content';
import { InvalidInputError } from '../../errors';
import { abortReason, required, type CallOpts, type ContainerdConnection } from '../connection';
import {
  ContentWriteSession,
  writeBlob,
  type WriteBlobRequest,
  type WriteBlobResult,
} from './content-write';

export type ContentInfoInit = Parameters<typeof Info.fromPartial>[0];

/** Manifests, indexes and configs are small; this bounds what `readAll` will hold in memory. */
const DEFAULT_READ_ALL_LIMIT = 16 * 1024 * 1024;

/** containerd's content store: blobs by digest. */
export class ContentApi {
  constructor(private readonly conn: ContainerdConnection) {}

  async info(digest: string, opts?: CallOpts): Promise<Info> {
    const method = ContentService.info;
    const res = await this.conn.unary(method, { digest }, opts);
    return required(res.info, method.path, 'info');
  }

  /** `updateMask` names what to change, e.g. `labels.containerd.io/gc.ref.content.l.0`. */
  async update(info: ContentInfoInit, updateMask: string[], opts?: CallOpts): Promise<Info> {
    const method = ContentService.update;
    const res = await this.conn.unary(method, { info: Info.fromPartial(info), updateMask }, opts);
    return required(res.info, method.path, 'info');
  }

  async list(filters: string[] = [], opts?: CallOpts): Promise<Info[]> {
    const infos: Info[] = [];
    for await (const page of this.conn.serverStream(ContentService.list, { filters }, opts)) {
      infos.push(...page.info);
    }
    return infos;
  }

  async delete(digest: string, opts?: CallOpts): Promise<void> {
    await this.conn.unary(ContentService.delete, { digest }, opts);
  }

  /** The blob's bytes from `offset`, `size` of them (0: to the end), in containerd's chunks. */
  async *read(
    digest: string,
    options: { offset?: number; size?: number } & CallOpts = {},
  ): AsyncGenerator<Buffer> {
    const request = { digest, offset: options.offset ?? 0, size: options.size ?? 0 };
    for await (const res of this.conn.serverStream(ContentService.read, request, options)) {
      yield res.data;
    }
  }

  /** A whole (small) blob in memory; refuses blobs over `maxBytes`. */
  async readAll(digest: string, options: { maxBytes?: number } & CallOpts = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? DEFAULT_READ_ALL_LIMIT;
    const { size } = await this.info(digest, options);
    if (size > maxBytes) {
      throw new InvalidInputError(
        `blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed here`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of this.read(digest, options)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /** The state of an ingest in progress; NotFoundError when there is none for `ref`. */
  async status(ref: string, opts?: CallOpts): Promise<Status> {
    const method = ContentService.status;
    const res = await this.conn.unary(method, { ref }, opts);
    return required(res.status, method.path, 'status');
  }

  /** Drops an unfinished ingest. */
  async abort(ref: string, opts?: CallOpts): Promise<void> {
    await this.conn.unary(ContentService.abort, { ref }, opts);
  }

  /** A raw Write stream, for callers that drive the protocol themselves. */
  openWriter(opts: Omit<CallOpts, 'timeoutMs'> = {}): ContentWriteSession {
    const method = ContentService.write;
    const { signal } = opts;
    return new ContentWriteSession(this.conn.duplex(method, opts), (err) =>
      signal?.aborted === true ? abortReason(signal) : this.conn.mapError(err, method.path),
    );
  }

  /** Writes one blob (resuming an earlier ingest with the same ref); see WriteBlobRequest. */
  async write(
    request: WriteBlobRequest,
    opts: Omit<CallOpts, 'timeoutMs'> = {},
  ): Promise<WriteBlobResult> {
    const session = this.openWriter(opts);
    try {
      return await writeBlob(session, request);
    } finally {
      session.close();
    }
  }
}
