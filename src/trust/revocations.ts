import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError, messageOf } from '../errors';
import { hasCode, writeFileAtomic, type FsOps } from '../fs';

const FILE = 'revoked.json';
const NODE_ID = /^[0-9a-f]{64}$/;

/**
 * Node ids of members that left the cluster, whose certificates this node no longer trusts.
 * Kept in the cluster directory (`revoked.json`), so it goes when this node itself leaves; a
 * certificate cannot be un-issued, so the list is how a left node loses its access.
 */
export class Revocations {
  private constructor(
    private readonly path: string,
    private readonly fs: FsOps,
    private readonly ids: Set<string>,
  ) {}

  /** Writes one after another, so an older list never lands after a newer one. */
  private writing: Promise<void> = Promise.resolve();

  /** Reads the list in `clusterDir`; a missing file is an empty list. */
  static async open(clusterDir: string, fs: FsOps = fsp): Promise<Revocations> {
    const path = join(clusterDir, FILE);
    let ids: string[] = [];
    try {
      const value: unknown = JSON.parse(await fs.readFile(path, 'utf8'));
      if (Array.isArray(value)) ids = value.filter((v): v is string => isNodeId(v));
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) {
        throw new InternalError(`cluster state: reading ${path}: ${messageOf(err)}`, {
          cause: err,
        });
      }
    }
    return new Revocations(path, fs, new Set(ids));
  }

  has(nodeId: string): boolean {
    return this.ids.has(nodeId);
  }

  list(): string[] {
    return [...this.ids].sort();
  }

  /** Adds node ids (ignoring malformed ones and `except`, this node); returns those new here. */
  async add(nodeIds: readonly string[], except: string): Promise<string[]> {
    const added = [...new Set(nodeIds)].filter(
      (id) => isNodeId(id) && id !== except && !this.ids.has(id),
    );
    if (added.length === 0) return [];
    for (const id of added) this.ids.add(id);
    const write = this.writing.then(() =>
      writeFileAtomic(this.fs, this.path, `${JSON.stringify(this.list(), null, 2)}\n`, 0o644),
    );
    this.writing = write.catch(() => undefined);
    await write;
    return added;
  }
}

function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID.test(value);
}
