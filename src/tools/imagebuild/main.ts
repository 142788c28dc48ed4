import { messageOf } from '../../errors';
import { CATALOG } from './catalog';

/**
 * `node dist/tools/imagebuild/main.js OUTDIR [--only NAME]`: builds Budgie's offline test images into
 * OUTDIR (run by `make images`). The same inputs give the same bytes on every run.
 */
const USAGE = `usage: node dist/tools/imagebuild/main.js OUTDIR [--only ${CATALOG.map((e) => e.name).join('|')}]`;

function parseArgs(argv: readonly string[]): { outDir: string; only: string | undefined } {
  const positional: string[] = [];
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') {
      only = argv[++i];
      if (only === undefined || !CATALOG.some((e) => e.name === only)) throw new Error(USAGE);
    } else if (arg !== undefined) positional.push(arg);
  }
  const [outDir, ...rest] = positional;
  if (outDir === undefined || outDir.startsWith('-') || rest.length > 0) throw new Error(USAGE);
  return { outDir, only };
}

async function main(): Promise<void> {
  const { outDir, only } = parseArgs(process.argv.slice(2));
  for (const entry of CATALOG) {
    if (only !== undefined && entry.name !== only) continue;
    const missing = await entry.missing();
    if (missing !== undefined) {
      if (only !== undefined) throw new Error(`cannot build ${entry.name}: ${missing}`);
      process.stdout.write(`skipped ${entry.name}: ${missing}\n`);
      continue;
    }
    for (const w of await entry.write(outDir)) {
      process.stdout.write(`wrote ${w.path} (manifest ${w.manifest})\n`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`imagebuild: ${messageOf(err)}\n`);
  process.exitCode = 1;
});
