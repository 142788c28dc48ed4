/**
 * The delta engine of volume sync (src/sync) against rsync on the same files: a BENCH_MB (100)
 * MiB file with BENCH_EDITS (100) scattered 10 KB edits, and the same file with 17 bytes inserted
 * at its start. Budgie's side computes the receiver's signature, the sender's delta and the
 * rebuilt file (written to disk) in this process; rsync's side is `rsync --no-whole-file --stats`
 * between two local directories (sender and receiver processes over a pipe). Both
 * report literal bytes (the new bytes that would cross the network) and wall time; the ratios
 * are Budgie's over rsync's. Medians of BENCH_ROUNDS (3). Needs rsync.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { applyDelta, blockSizeFor, deltaOf, RebuiltFile, signatureOf } from '../src/sync';
import { median } from './cluster-common';

const exec = promisify(execFile);
const MB = Number(process.env.BENCH_MB ?? '100');
const EDITS = Number(process.env.BENCH_EDITS ?? '100');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
/** Reads in pieces of 1 MiB, as the sync engine's file reads will. */
const CHUNK = 1024 * 1024;

interface Side {
  literal: number;
  ms: number;
}

async function budgie(basisPath: string, nextPath: string, outPath: string): Promise<Side> {
  const start = performance.now();
  const blockSize = blockSizeFor((await stat(basisPath)).size);
  const signature = await signatureOf(
    createReadStream(basisPath, { highWaterMark: CHUNK }),
    blockSize,
  );
  const basis = await open(basisPath);
  const out = await open(outPath, 'w');
  let literal = 0;
  const counted = async function* () {
    for await (const op of deltaOf(
      signature,
      createReadStream(nextPath, { highWaterMark: CHUNK }),
    )) {
      if (op.kind === 'literal') literal += op.data.length;
      yield op;
    }
  };
  try {
    const file = new RebuiltFile(out, basis, Number.MAX_SAFE_INTEGER, () => undefined);
    await applyDelta(
      { blockSize, fileSize: signature.fileSize },
      counted(),
      Number.MAX_SAFE_INTEGER,
      file,
    );
    await file.finish();
  } finally {
    await basis.close();
    await out.close();
  }
  return { literal, ms: performance.now() - start };
}

async function rsync(basisPath: string, nextPath: string, dir: string): Promise<Side> {
  const dest = join(dir, 'rsync-dest');
  await rm(dest, { recursive: true, force: true });
  await exec('mkdir', ['-p', dest]);
  await exec('cp', [basisPath, join(dest, 'file')]);
  const src = join(dir, 'rsync-src');
  await rm(src, { recursive: true, force: true });
  await exec('mkdir', ['-p', src]);
  await exec('cp', [nextPath, join(src, 'file')]);
  const start = performance.now();
  // -I: the files' sizes and mtimes may match, yet they differ. --no-whole-file: a local copy
  // would otherwise send the whole file, not a delta.
  const { stdout } = await exec('rsync', [
    '-I',
    '--no-whole-file',
    '--stats',
    join(src, 'file'),
    dest,
  ]);
  const ms = performance.now() - start;
  const match = /Literal data: ([\d,.]+) bytes/.exec(stdout);
  if (match?.[1] === undefined) throw new Error(`rsync --stats: no literal data in ${stdout}`);
  return { literal: Number(match[1].replace(/[,.]/g, '')), ms };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'budgie-bench-sync-'));
  try {
    const basis = randomBytes(MB * 1024 * 1024);
    const edited = Buffer.from(basis);
    for (let i = 0; i < EDITS; i++) {
      randomBytes(10_240).copy(edited, Math.floor((i + 0.5) * (edited.length / EDITS)));
    }
    const inserted = Buffer.concat([Buffer.from('a new first line\n'), basis]);
    const basisPath = join(dir, 'basis');
    await writeFile(basisPath, basis);
    const cases: [string, Buffer][] = [
      [`${MB} MiB, ${EDITS} scattered 10 KB edits`, edited],
      [`${MB} MiB, 17 bytes inserted at the start`, inserted],
    ];
    const { stdout: version } = await exec('rsync', ['--version']);
    console.log(`${version.split('\n')[0] ?? 'rsync'}; medians of ${ROUNDS} rounds`);
    for (const [what, next] of cases) {
      const nextPath = join(dir, 'next');
      await writeFile(nextPath, next);
      const ours: Side[] = [];
      const theirs: Side[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ours.push(await budgie(basisPath, nextPath, join(dir, 'out')));
        theirs.push(await rsync(basisPath, nextPath, dir));
      }
      const b = { literal: median(ours.map((s) => s.literal)), ms: median(ours.map((s) => s.ms)) };
      const r = {
        literal: median(theirs.map((s) => s.literal)),
        ms: median(theirs.map((s) => s.ms)),
      };
      console.log(`${what}:`);
      console.log(
        `  literal bytes  budgie ${b.literal}  rsync ${r.literal}  ratio ${(b.literal / r.literal).toFixed(2)}`,
      );
      console.log(
        `  wall time ms   budgie ${b.ms.toFixed(0)}  rsync ${r.ms.toFixed(0)}  ratio ${(b.ms / r.ms).toFixed(2)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
