import { readFile, stat } from 'node:fs/promises';
import { InvalidInputError, messageOf, NotFoundError, PermissionDeniedError } from '../errors';
import { parseBundle } from './parse';
import { BundleError } from './problems';
import { MAX_BUNDLE_BYTES } from './text-checks';
import type { App } from './types';

/** Reads and parses a .bun file; every failure names the file. */
export async function loadBundle(file: string): Promise<App> {
  const bytes = await readBundleFile(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw notUtf8(file, bytes);
  }
  return parseBundle(text, file);
}

async function readBundleFile(file: string): Promise<Buffer> {
  try {
    // Checked before reading, so that /dev/zero or a huge file is refused without being read.
    const info = await stat(file);
    if (info.isDirectory())
      throw new InvalidInputError(`${file}: is a directory, expected a .bun file`);
    if (!info.isFile()) throw new InvalidInputError(`${file}: not a regular file`);
    if (info.size > MAX_BUNDLE_BYTES) {
      throw new InvalidInputError(
        `${file}: file too large (${info.size} bytes; a .bun is at most 256 KiB)`,
      );
    }
    return await readFile(file);
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    // Not `instanceof Error`: errors from node:fs may come from another realm (jest, vm).
    const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
    if (code === 'ENOENT') throw new NotFoundError(`${file}: no such file`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new PermissionDeniedError(`${file}: permission denied`);
    }
    throw new InvalidInputError(`${file}: cannot read: ${messageOf(err)}`);
  }
}

/** Points at the first byte that is not UTF-8, found by decoding leniently. */
function notUtf8(file: string, bytes: Buffer): BundleError {
  const lenient = new TextDecoder('utf-8').decode(bytes);
  const before = lenient.slice(0, lenient.indexOf('\uFFFD')).split('\n');
  return new BundleError([
    {
      file,
      line: before.length,
      column: (before[before.length - 1]?.length ?? 0) + 1,
      path: '',
      message: 'not a text file (invalid UTF-8)',
    },
  ]);
}
