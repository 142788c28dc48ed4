import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../../src/errors';
import { readLog, type ReadLogOptions } from '../../../src/logs';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'budgie-logs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string, options: Omit<ReadLogOptions, 'signal'>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of readLog(path, { ...options, signal: new AbortController().signal })) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString();
}

/** The last n lines as `tail -n` prints them. */
function lastLines(text: string, n: number): string {
  if (n === 0) return text;
  const lines = text.split(/(?<=\n)/);
  return lines.slice(Math.max(0, lines.length - n)).join('');
}

describe('readLog without follow', () => {
  const lines = Array.from({ length: 60 }, (_, i) => `line ${i} ${'x'.repeat(i % 23)}\n`).join('');

  it.each([0, 1, 2, 3, 7, 59, 60, 61, 1000])(
    'gives the last %i lines across small blocks, with and without a final newline',
    async (n) => {
      const path = join(dir, 'log');
      await writeFile(path, lines);
      expect(await readAll(path, { tail: n, blockSize: 16 })).toBe(lastLines(lines, n));
      const unfinished = `${lines}partial`;
      await writeFile(path, unfinished);
      expect(await readAll(path, { tail: n, blockSize: 16 })).toBe(lastLines(unfinished, n));
    },
  );

  it('handles a block boundary right at a newline, blank lines, and one-line files', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'aaaaaaa\nbbbbbbb\n\n\ncccccc\n'); // 8-byte lines against 8-byte blocks
    expect(await readAll(path, { tail: 2, blockSize: 8 })).toBe('\ncccccc\n');
    expect(await readAll(path, { tail: 4, blockSize: 8 })).toBe('bbbbbbb\n\n\ncccccc\n');
    await writeFile(path, 'only');
    expect(await readAll(path, { tail: 1, blockSize: 2 })).toBe('only');
    await writeFile(path, '\n');
    expect(await readAll(path, { tail: 1 })).toBe('\n');
    await writeFile(path, '');
    expect(await readAll(path, { tail: 5 })).toBe('');
  });

  it('reads a whole file in chunks of the block size', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'x'.repeat(100));
    const sizes: number[] = [];
    for await (const chunk of readLog(path, {
      blockSize: 32,
      signal: new AbortController().signal,
    }))
      sizes.push(chunk.length);
    expect(sizes).toEqual([32, 32, 32, 4]);
  });

  it('yields nothing for a missing file, or NotFoundError when asked', async () => {
    const path = join(dir, 'never-started');
    expect(await readAll(path, {})).toBe('');
    await expect(readAll(path, { mustExist: true })).rejects.toThrow(NotFoundError);
  });

  it('yields nothing once aborted', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'hello\n');
    const controller = new AbortController();
    controller.abort();
    const chunks: Buffer[] = [];
    for await (const chunk of readLog(path, { signal: controller.signal })) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });
});

/** Follows a file in the background; `until` waits for the collected text to match. */
function follow(path: string, options: Omit<ReadLogOptions, 'signal' | 'follow'> = {}) {
  const controller = new AbortController();
  let text = '';
  const done = (async () => {
    for await (const chunk of readLog(path, {
      pollMs: 50,
      ...options,
      follow: true,
      signal: controller.signal,
    })) {
      text += chunk.toString();
    }
  })();
  const until = async (expected: string): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (text !== expected) {
      if (Date.now() > deadline)
        throw new Error(`waited for ${JSON.stringify(expected)}, got ${JSON.stringify(text)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const stop = async (): Promise<void> => {
    controller.abort();
    await done;
  };
  return { until, stop, text: () => text };
}

describe('readLog with follow', () => {
  it('gives the tail, then appends as they come, and ends when aborted', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'one\ntwo\nthree\n');
    const f = follow(path, { tail: 1 });
    try {
      await f.until('three\n');
      await appendFile(path, 'four\n');
      await f.until('three\nfour\n');
      await appendFile(path, 'fi');
      await appendFile(path, 've\n');
      await f.until('three\nfour\nfive\n');
    } finally {
      await f.stop();
    }
  });

  it('starts again from the top after truncation', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'old old old\n');
    const f = follow(path);
    try {
      await f.until('old old old\n');
      await truncate(path, 0);
      await appendFile(path, 'new\n');
      await f.until('old old old\nnew\n');
    } finally {
      await f.stop();
    }
  });

  it('waits for a file that does not exist yet', async () => {
    const path = join(dir, 'later');
    const f = follow(path, { tail: 10 });
    try {
      await new Promise((r) => setTimeout(r, 100));
      await writeFile(path, 'hello\n');
      await f.until('hello\n');
    } finally {
      await f.stop();
    }
  });

  it('waits for a directory that does not exist yet (polling)', async () => {
    const sub = join(dir, 'containers');
    const path = join(sub, 'log');
    const f = follow(path);
    try {
      await new Promise((r) => setTimeout(r, 100));
      await import('node:fs/promises').then((fs) => fs.mkdir(sub));
      await writeFile(path, 'hi\n');
      await f.until('hi\n');
    } finally {
      await f.stop();
    }
  });

  it('finishes a replaced file, then follows the new one', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'a\n');
    const f = follow(path);
    try {
      await f.until('a\n');
      await rename(path, `${path}.1`);
      await appendFile(`${path}.1`, 'b\n');
      await writeFile(path, 'c\n');
      await f.until('a\nb\nc\n');
    } finally {
      await f.stop();
    }
  });

  it('ends promptly when aborted while idle', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'x\n');
    const f = follow(path, { pollMs: 60_000 });
    await f.until('x\n');
    const started = Date.now();
    await f.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
