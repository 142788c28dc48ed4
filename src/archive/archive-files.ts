import { createReadStream, statSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidInputError, NotFoundError } from '../errors';
import { indexTar, type TarEntry } from './tar-index';

/** Read access to the files of an image archive, whether a directory or a tar. */
export interface ArchiveFiles {
  has(name: string): boolean;
  size(name: string): number;
  /** A small document (index.json, a manifest, a config), whole. */
  read(name: string): Promise<Buffer>;
  stream(name: string): Readable;
}

const MAX_DOCUMENT = 4 * 1024 * 1024;

export async function openArchiveFiles(path: string): Promise<ArchiveFiles> {
  const info = await stat(path).catch(() => {
    throw new NotFoundError(`image archive ${path} does not exist`);
  });
  return info.isDirectory() ? directoryFiles(path) : tarFiles(path, await indexTar(path));
}

function tarFiles(path: string, entries: Map<string, TarEntry>): ArchiveFiles {
  const entry = (name: string): TarEntry => {
    const e = entries.get(normalize(name));
    if (e === undefined) throw new InvalidInputError(`${path}: the archive has no ${name}`);
    return e;
  };
  return {
    has: (name) => entries.has(normalize(name)),
    size: (name) => entry(name).size,
    read: async (name) => {
      const e = entry(name);
      if (e.size > MAX_DOCUMENT) throw new InvalidInputError(`${path}: ${name} is too large`);
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(e.size);
        await fh.read(buf, 0, e.size, e.offset);
        return buf;
      } finally {
        await fh.close();
      }
    },
    // createReadStream's `end` is inclusive; for an empty entry it reads nothing, as it should.
    stream: (name) => {
      const e = entry(name);
      return createReadStream(path, { start: e.offset, end: e.offset + e.size - 1 });
    },
  };
}

function directoryFiles(root: string): ArchiveFiles {
  const full = (name: string): string => {
    const rel = normalize(name);
    if (rel.startsWith('..')) throw new InvalidInputError(`${root}: invalid path ${name}`);
    return join(root, rel);
  };
  const fileSize = (name: string): number | undefined => {
    try {
      const s = statSync(full(name));
      return s.isFile() ? s.size : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    has: (name) => fileSize(name) !== undefined,
    size: (name) => {
      const size = fileSize(name);
      if (size === undefined) throw new InvalidInputError(`${root}: the layout has no ${name}`);
      return size;
    },
    read: async (name) => {
      if ((fileSize(name) ?? 0) > MAX_DOCUMENT) {
        throw new InvalidInputError(`${root}: ${name} is too large`);
      }
      return readFile(full(name));
    },
    stream: (name) => createReadStream(full(name)),
  };
}
