import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexTar } from '../../../src/archive/tar-index';
import { InvalidInputError } from '../../../src/errors';

/**
 * Tars made byte by byte, as a hostile peer or a crafted file would: the index reads only
 * headers, and whatever they say, it ends, and fails only with a one-line InvalidInputError.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'budgie-tar-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A ustar header block; `size` is written as given (octal text), checksum filled in. */
function header(name: string, type: string, size: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.slice(0, 11).padEnd(11, '\0'), 124, 'latin1');
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
  return Buffer.from(`${len}${body}`);
}

function padded(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}

/** A PAX header saying `paxSize`, then a file `f` with 5 bytes, then the end blocks. */
function tarWithPaxSize(paxSize: string): Buffer {
  const pax = paxRecord('size', paxSize);
  return Buffer.concat([
    header('./PaxHeaders/f', 'x', pax.length.toString(8)),
    padded(pax),
    header('f', '0', '5'),
    padded(Buffer.from('hello')),
    Buffer.alloc(1024),
  ]);
}

async function index(bytes: Buffer) {
  const path = join(dir, `t${Math.random().toString(16).slice(2)}.tar`);
  await writeFile(path, bytes);
  try {
    return await indexTar(path);
  } finally {
    await rm(path, { force: true });
  }
}

it('reads a PAX size record', async () => {
  expect((await index(tarWithPaxSize('5'))).get('f')).toEqual({ offset: 3 * 512, size: 5 });
});

it('refuses a negative PAX size in one line instead of scanning backwards for ever', async () => {
  const failure = await index(tarWithPaxSize('-1536')).catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(InvalidInputError);
  expect((failure as Error).message).toMatch(
    /\.tar: tar entry at byte 1024 has size "-1536"; expected a whole number of bytes$/,
  );
});

it('refuses sizes that are not numbers, and entries that run past the end', async () => {
  await expect(index(tarWithPaxSize('1e3'))).rejects.toThrow(/has size "1e3"/);
  await expect(index(tarWithPaxSize('99999999999999999999'))).rejects.toThrow(/has size/);
  await expect(index(tarWithPaxSize('4096'))).rejects.toThrow(
    /tar entry at byte 1024 says 4096 bytes, past the end of the archive/,
  );
  const negativeOctal = Buffer.concat([header('f', '0', '-1'), Buffer.alloc(1024)]);
  await expect(index(negativeOctal)).rejects.toThrow(/has size -1/);
});

it('ends on any header size and any PAX size, failing only with InvalidInputError', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -1e6, max: 1e6 }).map(String)),
      fc.string({ maxLength: 11 }),
      async (paxSize, headerSize) => {
        const bytes = Buffer.concat([
          tarWithPaxSize(paxSize),
          header('g', '0', headerSize),
          Buffer.alloc(1024),
        ]);
        await index(bytes).catch((err: unknown) => {
          expect(err).toBeInstanceOf(InvalidInputError);
        });
      },
    ),
    { numRuns: 200 },
  );
});
