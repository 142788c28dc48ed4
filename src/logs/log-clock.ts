import { appendFile, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log';

/** Where a log's time marks live: beside it, so removing a replica's files is one glob. */
export function marksPath(logPath: string): string {
  return `${logPath}.times`;
}

const LOG_SUFFIX = '.log';
const MARKS_SUFFIX = marksPath(LOG_SUFFIX);
const DEFAULT_TICK_MS = 1_000;
/** About 100 KB of marks per log: an hour of second-by-second marks, older ones thinned. */
const DEFAULT_MAX_MARKS = 4096;

/**
 * Gives `budgie logs --since` its times. The shim appends containers' raw output to the log files,
 * without timestamps, and that is what keeps logging cheap; so the agent samples each log's size
 * once per tick and, when it grew, appends `<unix ms> <size>` to the log's marks file. A line
 * written at time T then starts at or after the size of the last mark taken at or before T: a
 * `--since` answer may start up to one tick early, never late. While the agent is down nothing is
 * marked, so output from that gap counts as written when the agent came back. A log that keeps
 * growing would grow its marks without end: past `maxMarks`, every other mark is dropped (the
 * newest kept), so older times get coarser, and answers about them start earlier, never later.
 */
export class LogClock {
  private readonly sizes = new Map<string, number>();
  /** Marks per file, once counted, so that thinning needs no read per tick. */
  private readonly counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
    private readonly tickMs = DEFAULT_TICK_MS,
    private readonly now: () => number = Date.now,
    private readonly maxMarks = DEFAULT_MAX_MARKS,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, this.tickMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  /** One sample of every log in the directory; exported for tests, which drive time. */
  async tick(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return; // no replica has logged yet
    }
    const logs = new Set(names.filter((n) => n.endsWith(LOG_SUFFIX)));
    for (const name of names) {
      // The replica's log was removed: its marks go too.
      if (
        name.endsWith(MARKS_SUFFIX) &&
        !logs.has(name.slice(0, LOG_SUFFIX.length - MARKS_SUFFIX.length))
      ) {
        await rm(join(this.dir, name), { force: true });
      }
    }
    for (const key of this.sizes.keys()) if (!logs.has(key)) this.sizes.delete(key);
    for (const key of this.counts.keys()) if (!logs.has(key)) this.counts.delete(key);
    for (const name of logs) {
      try {
        await this.sample(name);
      } catch (err) {
        this.log.debug('could not mark a log', { log: name, err: String(err) });
      }
    }
  }

  private async sample(name: string): Promise<void> {
    const path = join(this.dir, name);
    const { size } = await stat(path);
    const known = this.sizes.get(name) ?? (await lastMarkedSize(marksPath(path)));
    if (size === known) {
      this.sizes.set(name, size);
      return;
    }
    const mark = `${this.now()} ${size}\n`;
    const marks = marksPath(path);
    // Truncated: the old marks describe bytes that are gone.
    if (known !== undefined && size < known) {
      await writeFile(marks, mark);
      this.counts.set(name, 1);
    } else {
      await appendFile(marks, mark);
      const count = (this.counts.get(name) ?? (await readMarks(marks)).length - 1) + 1;
      this.counts.set(name, count > this.maxMarks ? await thin(marks) : count);
    }
    this.sizes.set(name, size);
  }
}

/** Drops every other mark, keeping the newest; replaces the file atomically; returns the count. */
async function thin(path: string): Promise<number> {
  const marks = await readMarks(path);
  const kept = marks.filter((_, i) => (marks.length - 1 - i) % 2 === 0);
  const temp = `${path}.thin`;
  await writeFile(temp, kept.map((m) => `${m.atMs} ${m.size}\n`).join(''));
  await rename(temp, path);
  return kept.length;
}

/**
 * The offset in the log where output written at or after `sinceMs` begins, by the marks (0 when
 * there are none or all are later): see LogClock.
 */
export async function offsetSince(logPath: string, sinceMs: number): Promise<number> {
  let offset = 0;
  for (const { atMs, size } of await readMarks(marksPath(logPath))) {
    if (atMs > sinceMs) break;
    offset = size;
  }
  return offset;
}

interface Mark {
  atMs: number;
  size: number;
}

async function readMarks(path: string): Promise<Mark[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const marks: Mark[] = [];
  const lines = text.split('\n');
  // What follows the last newline is empty or torn (the agent was killed mid-append): skipped.
  lines.pop();
  for (const line of lines) {
    const match = /^(\d{1,15}) (\d{1,15})$/.exec(line);
    if (match !== null) marks.push({ atMs: Number(match[1]), size: Number(match[2]) });
  }
  return marks;
}

async function lastMarkedSize(path: string): Promise<number | undefined> {
  return (await readMarks(path)).at(-1)?.size;
}
