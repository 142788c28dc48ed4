import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tarBytes } from './tar-writer';
import { TreeBuilder } from './tree-builder';

/** A file of an archive or layout, by its path relative to the archive's root. */
export interface OutputFile {
  path: string;
  bytes: Buffer;
}

export function filesToTar(files: readonly OutputFile[]): Buffer {
  const tree = new TreeBuilder();
  for (const f of files) tree.file(f.path, f.bytes);
  return tarBytes(tree.build());
}

/** Writes a tar next to its destination and renames it in: readers never see half a file. */
export async function writeTarFile(path: string, files: readonly OutputFile[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, filesToTar(files));
  await rename(temp, path);
}

/**
 * Replaces `dir` with exactly these files. It is built beside the destination and swapped in, so
 * stale blobs from an earlier build never linger and a reader never sees a half-written layout.
 */
export async function writeDirectory(dir: string, files: readonly OutputFile[]): Promise<void> {
  const temp = `${dir}.${process.pid}.tmp`;
  await rm(temp, { recursive: true, force: true });
  for (const f of files) {
    const target = join(temp, f.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.bytes);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(temp, dir);
}
