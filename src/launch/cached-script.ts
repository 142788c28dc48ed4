import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, Module } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** Node's own wrapper of a CommonJS module's code. */
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) { ', '\n});'];

/**
 * Runs the CommonJS script `file` as a module, with V8's code cache for it: the compiled code of
 * its last run is loaded instead of parsing and compiling its source again. A cache is written
 * at exit when there was none, or when V8 refused it (another Node, another build): it then
 * holds every function that run compiled. It lives in the user's cache directory
 * (XDG_CACHE_HOME, else ~/.cache), in a directory only the user may write, since V8 trusts the
 * code it loads from it; without one the script runs uncached, as fast as before. The cache is
 * a hint: a failure to read or write it never fails the command.
 */
export function runCached(file: string): void {
  // Bundles are ASCII (esbuild escapes the rest): latin1 is a plain copy, utf8 a decode.
  const source = readFileSync(file, 'latin1').replace(/^#!.*/, '');
  const cache = cacheFileFor(file);
  const cached = cache === undefined ? undefined : readTrusted(cache);
  const script = new Script(`${WRAPPER[0]}${source}${WRAPPER[1]}`, {
    filename: file,
    ...(cached === undefined ? {} : { cachedData: cached }),
  });
  if (cache !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => {
      writeCache(cache, script.createCachedData());
    });
  }
  const run: unknown = script.runInThisContext();
  if (typeof run !== 'function') throw new Error(`${file}: not a script`);
  const module = new Module(file);
  module.filename = file;
  const require = createRequire(file);
  run.call(module.exports, module.exports, require, module, file, dirname(file));
}

/** The cache file of `file` as it is now: named by its path, size and time, and Node's build. */
function cacheFileFor(file: string): string | undefined {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  if (base === '' || base === '.cache') return undefined;
  const st = statSync(file);
  const key = fnv1a([file, st.size, st.mtimeMs, process.version, process.arch].join('\0'));
  return join(base, 'budgie', `code-${key}.bin`);
}

/**
 * FNV-1a, 32 bits twice (the second over the reversed text): a name, not a check, since V8
 * checks the source a cache belongs to itself. node:crypto alone took 8 ms to load.
 */
function fnv1a(text: string): string {
  const hash = (from: number, step: number): string => {
    let h = 0x811c9dc5;
    for (let i = from; i >= 0 && i < text.length; i += step) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    }
    return (h >>> 0).toString(16).padStart(8, '0');
  };
  return hash(0, 1) + hash(text.length - 1, -1);
}

/** The file's bytes, if it and its directory are the user's own and nobody else may write them. */
function readTrusted(path: string): Buffer | undefined {
  try {
    if (!trusted(dirname(path)) || !trusted(path)) return undefined;
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function trusted(path: string): boolean {
  const st = lstatSync(path);
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** Caches kept: one per build, and a few builds (checkouts, an install) side by side. */
const KEEP_CACHES = 4;

/** Writes the cache whole (temp and rename), and drops the oldest beyond KEEP_CACHES. */
function writeCache(path: string, data: Buffer): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!trusted(dir)) return;
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, path);
    const caches = readdirSync(dir)
      .filter((name) => name.startsWith('code-') && name.endsWith('.bin'))
      .map((name) => ({ path: join(dir, name), mtimeMs: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const old of caches.slice(KEEP_CACHES)) unlinkSync(old.path);
  } catch {
    // Best effort: the next run compiles the bundle again, and tries once more.
  }
}
