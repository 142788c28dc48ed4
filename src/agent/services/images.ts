import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidInputError } from '../../errors';
import {
  ImageServiceService,
  LayerState,
  type Image,
  type ImageServiceServer,
  type ImportImageRequest,
} from '../../gen/budgie/v1/images';
import type { Logger } from '../../log';
import type { ImageEvent, ImageStore, ImageSummary } from '../../runtime/images';
import type { ServiceBinding } from '../../rpc/handlers';
import { bidiStream, serverStream, unary } from '../../rpc/handlers';
import { ProgressSampler } from '../progress-sampler';

const LAYER_STATE: Record<string, LayerState> = {
  waiting: LayerState.LAYER_STATE_WAITING,
  downloading: LayerState.LAYER_STATE_DOWNLOADING,
  exists: LayerState.LAYER_STATE_EXISTS,
  downloaded: LayerState.LAYER_STATE_DOWNLOADED,
  unpacked: LayerState.LAYER_STATE_UNPACKED,
};

/**
 * `maxImportBytes`: the largest archive an import takes (the agent's --max-import); a larger one
 * is refused as it streams in, before it fills the disk.
 */
export function imageService(
  store: ImageStore,
  tmpDir: string,
  log: Logger,
  maxImportBytes = Number.MAX_SAFE_INTEGER,
): ServiceBinding {
  const implementation: ImageServiceServer = {
    pullImage: serverStream(log, 'PullImage', async (req, send, signal) => {
      if (req.reference.trim() === '')
        throw new InvalidInputError('reference: expected an image reference');
      const progress = new ProgressSampler((ev) => send(toPullEvent(ev)));
      const image = await store.pull(req.reference, {
        signal,
        onEvent: (ev) => {
          progress.push(ev);
        },
      });
      await progress.flush();
      await send({ event: { $case: 'done', value: toImage(image) } });
    }),
    importImage: bidiStream(log, 'ImportImage', async (requests, send, signal) => {
      const dir = await mkdtemp(join(tmpDir, 'import-'));
      try {
        const file = await receiveArchive(requests, dir, signal, maxImportBytes);
        await send({ event: { $case: 'phase', value: 'received archive, importing' } });
        const progress = new ProgressSampler(async (ev) => {
          if (ev.type === 'phase') await send({ event: { $case: 'phase', value: ev.text } });
        });
        const images = await store.importArchive(file, {
          signal,
          onEvent: (ev) => {
            progress.push(ev);
          },
        });
        await progress.flush();
        for (const image of images) await send({ event: { $case: 'done', value: toImage(image) } });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
    listImages: unary(log, 'ListImages', async () => ({
      images: (await store.list()).map(toImage),
    })),
    removeImage: unary(log, 'RemoveImage', async (req) => {
      await store.remove(req.reference);
      return {};
    }),
  };
  return { definition: ImageServiceService, implementation };
}

/**
 * Stores the streamed archive in `dir` under the client's file name (made safe), because an
 * archive without image names is named after its file, as `docker load` would not but `ctr` does.
 */
async function receiveArchive(
  requests: AsyncIterable<ImportImageRequest>,
  dir: string,
  signal: AbortSignal,
  maxBytes: number,
): Promise<string> {
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) throw new InvalidInputError('import: the archive is empty');
  const safe = basename(first.value.fileName).replace(/[^A-Za-z0-9._-]/g, '_');
  const file = join(dir, safe === '' || safe.startsWith('.') ? 'archive.tar' : safe);
  let received = 0;
  const counted = (data: Buffer): Buffer => {
    received += data.length;
    if (received > maxBytes) {
      throw new InvalidInputError(
        `import: the archive is larger than this agent takes (--max-import, ${maxBytes} bytes); raise it if the archive is meant`,
      );
    }
    return data;
  };
  async function* bytes(): AsyncGenerator<Buffer> {
    if (first.done !== true) yield counted(first.value.data);
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      yield counted(next.value.data);
    }
  }
  await pipeline(bytes(), createWriteStream(file), { signal });
  return file;
}

function toImage(i: ImageSummary): Image {
  return {
    name: i.name,
    digest: i.digest,
    size: i.size,
    platform: i.platform,
    createdUnixMs: i.createdMs,
  };
}

export function toPullEvent(ev: ImageEvent) {
  if (ev.type === 'phase') return { event: { $case: 'phase' as const, value: ev.text } };
  const { digest, size, done, state } = ev;
  return {
    event: {
      $case: 'layer' as const,
      value: {
        digest,
        size,
        done,
        state: LAYER_STATE[state] ?? LayerState.LAYER_STATE_UNSPECIFIED,
      },
    },
  };
}
