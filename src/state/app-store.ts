import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError, messageOf } from '../errors';
import type { Logger } from '../log';
import { isTempFile, syncDir, writeFileAtomic, type FsOps } from '../fs';
import { checkAppName, decodeRecord } from './record';
import type { AppRecord } from './types';

export interface AppStoreOptions {
  /** The apps directory, `<stateDir>/apps`; created 0700 on first use. */
  dir: string;
  log: Logger;
  /** Injected in tests. */
  fs?: FsOps;
  now?: () => number;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const SUFFIX = '.json';

/**
 * Desired state, one file per app (`<dir>/<name>.json`), each replaced atomically. A file that does
 * not parse or validate is logged, moved aside to `<name>.json.corrupt-<ms>` (never deleted) and
 * skipped, so one bad file never stops the agent. Writes to one app apply in call order.
 */
export class AppStore {
  private readonly fs: FsOps;
  private readonly now: () => number;
  private prepared: Promise<void> | undefined;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: AppStoreOptions) {
    this.fs = options.fs ?? fsp;
    this.now = options.now ?? Date.now;
  }

  async save(record: AppRecord): Promise<void> {
    const { name } = record.app;
    checkAppName(name);
    // Never write what list() would refuse to read back.
    const data = `${JSON.stringify(decodeRecord(roundTrip(record), name), null, 2)}\n`;
    await this.serial(name, async () => {
      await this.prepare();
      try {
        await writeFileAtomic(this.fs, this.pathOf(name), data, FILE_MODE);
      } catch (err) {
        throw new InternalError(`saving app ${name}: ${messageOf(err)}`, { cause: err });
      }
    });
  }

  /** Forgets an app; removing one that is not stored is not an error. */
  async remove(name: string): Promise<void> {
    checkAppName(name);
    await this.serial(name, async () => {
      await this.prepare();
      try {
        await this.fs.unlink(this.pathOf(name));
        await syncDir(this.fs, this.options.dir);
      } catch (err) {
        if (hasCode(err, 'ENOENT')) return;
        throw new InternalError(`removing app ${name}: ${messageOf(err)}`, { cause: err });
      }
    });
  }

  async get(name: string): Promise<AppRecord | undefined> {
    checkAppName(name);
    return this.serial(name, async () => {
      await this.prepare();
      return this.load(name);
    });
  }

  /** Every valid stored app, by name. */
  async list(): Promise<AppRecord[]> {
    await this.prepare();
    const files = await this.fs.readdir(this.options.dir);
    const names = files
      .filter((f) => f.endsWith(SUFFIX) && !f.startsWith('.'))
      .map((f) => f.slice(0, -SUFFIX.length))
      .sort();
    const records = await Promise.all(names.map((n) => this.serial(n, () => this.load(n))));
    return records.filter((r) => r !== undefined);
  }

  private pathOf(name: string): string {
    return join(this.options.dir, `${name}${SUFFIX}`);
  }

  private async load(name: string): Promise<AppRecord | undefined> {
    const path = this.pathOf(name);
    let text: string;
    try {
      text = await this.fs.readFile(path, 'utf8');
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return undefined;
      throw new InternalError(`reading ${path}: ${messageOf(err)}`, { cause: err });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return this.setAside(path, `not JSON: ${messageOf(err)}`);
    }
    try {
      return decodeRecord(value, name);
    } catch (err) {
      return this.setAside(path, messageOf(err));
    }
  }

  private async setAside(path: string, problem: string): Promise<undefined> {
    const aside = `${path}.corrupt-${this.now()}`;
    try {
      await this.fs.rename(path, aside);
      this.options.log.warn('invalid app state file moved aside', { file: path, problem, aside });
    } catch (err) {
      this.options.log.warn('invalid app state file skipped', {
        file: path,
        problem,
        moveFailed: messageOf(err),
      });
    }
    return undefined;
  }

  /** Once, before anything else: the directory exists, is private, and holds no crashed temp files. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      const { dir, log } = this.options;
      await this.fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
      await this.fs.chmod(dir, DIR_MODE);
      for (const file of await this.fs.readdir(dir)) {
        if (!isTempFile(file)) continue;
        await this.fs.unlink(join(dir, file)).catch(() => undefined);
        log.debug('removed an unfinished state write', { file: join(dir, file) });
      }
    })().catch((err: unknown) => {
      this.prepared = undefined;
      throw new InternalError(`preparing ${this.options.dir}: ${messageOf(err)}`, { cause: err });
    });
    return this.prepared;
  }

  private serial<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return run;
  }
}

function roundTrip(record: AppRecord): unknown {
  return JSON.parse(JSON.stringify(record));
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
