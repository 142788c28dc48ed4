import { appendFile, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClock, offsetSince, readLog } from '../../../src/logs';
import { silentLogger } from '../../../src/log';

let dir: string;
let now: number;
let clock: LogClock;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'budgie-clock-'));
  now = 1_000_000;
  clock = new LogClock(dir, silentLogger(), 1_000, () => now);
});
afterEach(async () => {
  await clock.close();
  await rm(dir, { recursive: true, force: true });
});

async function readFrom(path: string, from: number): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of readLog(path, { from, signal: new AbortController().signal })) {
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString();
}

describe('LogClock and offsetSince', () => {
  it('marks growth once per tick and finds where output since a time begins', async () => {
    const log = join(dir, 'a.log');
    await writeFile(log, 'before\n');
    await clock.tick(); // t=1000000: 7 bytes
    now += 1_000;
    await clock.tick(); // unchanged: no mark
    await appendFile(log, 'second\n');
    now += 1_000;
    await clock.tick(); // t=1002000: 14 bytes
    await appendFile(log, 'third\n');
    now += 1_000;
    await clock.tick(); // t=1003000: 20 bytes
    expect(await readFile(`${log}.times`, 'utf8')).toBe('1000000 7\n1002000 14\n1003000 20\n');
    expect(await offsetSince(log, 999_999)).toBe(0);
    expect(await offsetSince(log, 1_000_500)).toBe(7);
    expect(await readFrom(log, await offsetSince(log, 1_002_000))).toBe('third\n');
    expect(await readFrom(log, await offsetSince(log, 1_000_000))).toBe('second\nthird\n');
    expect(await offsetSince(log, 2_000_000)).toBe(20);
    expect(await readFrom(log, 20)).toBe('');
  });

  it('starts again after truncation, resumes from its marks after a restart, ignores torn lines', async () => {
    const log = join(dir, 'b.log');
    await writeFile(log, 'x'.repeat(10) + '\n');
    await clock.tick();
    await truncate(log, 0);
    await appendFile(log, 'new\n');
    now += 1_000;
    await clock.tick();
    expect(await readFile(`${log}.times`, 'utf8')).toBe('1001000 4\n');
    await appendFile(`${log}.times`, '1002000 9'); // a torn write by a killed agent
    const restarted = new LogClock(dir, silentLogger(), 1_000, () => now);
    await restarted.tick(); // same size as its last whole mark: nothing new
    expect(await readFile(`${log}.times`, 'utf8')).toBe('1001000 4\n1002000 9');
    expect(await offsetSince(log, 5_000_000)).toBe(4);
  });

  it('thins its marks past the limit: older times coarser, answers earlier, never later', async () => {
    const small = new LogClock(dir, silentLogger(), 1_000, () => now, 4);
    const log = join(dir, 'busy.log');
    await writeFile(log, '');
    for (let i = 1; i <= 5; i++) {
      await appendFile(log, `line ${i}\n`);
      now += 1_000;
      await small.tick();
    }
    // Marks at sizes 7..35; the fifth went past 4 and every other one was dropped.
    expect(await readFile(`${log}.times`, 'utf8')).toBe('1001000 7\n1003000 21\n1005000 35\n');
    expect(await readFrom(log, await offsetSince(log, 1_004_500))).toBe('line 4\nline 5\n');
    await appendFile(log, 'line 6\n');
    now += 1_000;
    await small.tick();
    expect((await readFile(`${log}.times`, 'utf8')).split('\n')).toHaveLength(5);
    expect(await readdir(dir)).toEqual(['busy.log', 'busy.log.times']);
    await small.close();
  });

  it('removes the marks of a log that is gone', async () => {
    const log = join(dir, 'c.log');
    await writeFile(log, 'hi\n');
    await clock.tick();
    await rm(log);
    await clock.tick();
    expect(await readdir(dir)).toEqual([]);
  });

  it('reads whole lines from a mark that falls mid-line', async () => {
    const log = join(dir, 'd.log');
    await writeFile(log, 'one\ntwo three\nfour\n');
    expect(await readFrom(log, 8)).toBe('two three\nfour\n');
    expect(await readFrom(log, 4)).toBe('two three\nfour\n');
    expect(await readFrom(log, 100)).toBe('');
  });
});
