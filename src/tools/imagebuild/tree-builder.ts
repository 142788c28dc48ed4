import { InvalidInputError } from '../../errors';
import type { TarEntry } from './tar-writer';

/**
 * Collects the entries of one tar (an image layer, a layout archive) by absolute path, adds the
 * parent directories nobody declared, and hands them back sorted so that parents precede children
 * and the same inputs always give the same tar.
 */
export class TreeBuilder {
  private readonly entries = new Map<string, TarEntry>();
  /** Parents added on the way to a deeper path; declaring one later sets its real mode. */
  private readonly implied = new Set<string>();

  file(path: string, content: Buffer | string, mode = 0o644): this {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    return this.add({ type: 'file', path: relative(path), content: bytes, mode });
  }

  dir(path: string, mode = 0o755): this {
    const rel = relative(path);
    if (this.implied.delete(rel)) this.entries.delete(rel);
    return this.add({ type: 'dir', path: rel, mode });
  }

  symlink(path: string, target: string): this {
    return this.add({ type: 'symlink', path: relative(path), target });
  }

  build(): TarEntry[] {
    return [...this.entries.values()].sort((a, b) => compare(a.path, b.path));
  }

  private add(entry: TarEntry): this {
    if (this.entries.has(entry.path)) {
      throw new InvalidInputError(`archive already has /${entry.path}`);
    }
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = this.entries.get(parent);
      if (existing === undefined) {
        this.entries.set(parent, { type: 'dir', path: parent, mode: 0o755 });
        this.implied.add(parent);
      } else if (existing.type !== 'dir') {
        throw new InvalidInputError(
          `archive has /${parent} as a ${existing.type}, not a directory`,
        );
      }
    }
    this.entries.set(entry.path, entry);
    return this;
  }
}

/** "/bin/sh" → "bin/sh"; rejects "..", "." and empty segments so no entry escapes the root. */
function relative(path: string): string {
  const rel = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const parts = rel.split('/');
  if (rel === '' || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new InvalidInputError(`"${path}" is not a clean absolute path inside the image`);
  }
  return rel;
}

/**
 * Segment by segment in byte order, as a directory walk would list them (`bin`, `bin/sh`,
 * `bin-extra`); locale-independent, so builds agree everywhere.
 */
function compare(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const order = Buffer.compare(Buffer.from(as[i] ?? ''), Buffer.from(bs[i] ?? ''));
    if (order !== 0) return order;
  }
  return as.length - bs.length;
}
