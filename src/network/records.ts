import * as t from 'io-ts';
import { isRight } from 'fp-ts/Either';
import * as fsp from 'node:fs/promises';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError } from '../errors';
import type { Attachment } from './config';
import { hasCode, writeFileAtomic } from '../fs';
import { parseJson } from './json';

/**
 * What detach needs after a crash, kept per replica: the namespace and each attachment's exact
 * configuration and ADD result (what libcni keeps in its cache). Written before anything is
 * created, so every namespace and lease this node makes has a record naming it.
 */
export interface ReplicaRecord {
  replicaId: string;
  netns: string;
  netnsPath: string;
  attachments: (Attachment & { result?: unknown })[];
}

const Plugin = t.intersection([t.type({ type: t.string }), t.record(t.string, t.unknown)]);
const RecordCodec = t.type({
  replicaId: t.string,
  netns: t.string,
  netnsPath: t.string,
  attachments: t.array(
    t.intersection([
      t.type({
        ifName: t.string,
        list: t.type({ cniVersion: t.string, name: t.string, plugins: t.array(Plugin) }),
      }),
      t.partial({ result: t.unknown }),
    ]),
  ),
});

const SUFFIX = '.json';

/** Replica records as JSON files in one directory, replaced atomically. */
export class RecordStore {
  constructor(private readonly dir: string) {}

  async read(replicaId: string): Promise<ReplicaRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(replicaId), 'utf8');
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return undefined;
      throw err;
    }
    const decoded = RecordCodec.decode(parseJson(text));
    if (isRight(decoded) && decoded.right.replicaId === replicaId) return decoded.right;
    throw new InternalError(`network record ${this.path(replicaId)} is damaged; remove it by hand`);
  }

  async write(record: ReplicaRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // A temp name of its own per write and the directory fsynced: two writes never share a temp
    // file, and a record the agent relies on after a crash is really there.
    await writeFileAtomic(fsp, this.path(record.replicaId), JSON.stringify(record), 0o600);
  }

  async remove(replicaId: string): Promise<void> {
    await rm(this.path(replicaId), { force: true });
  }

  /** The replica ids that have a record. */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return [];
      throw err;
    }
    return names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length));
  }

  private path(replicaId: string): string {
    return join(this.dir, `${replicaId}${SUFFIX}`);
  }
}
