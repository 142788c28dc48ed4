/**
 * Bundles the CLI and the agent (src/entry.ts and everything it imports, dynamic imports included)
 * into one minified CommonJS file for Node >= 20, for build-all.sh; or, with --cli, the CLI alone
 * for a `tsc` build (`npm run build`).
 *
 * Usage (build-all.sh and `npm run build` compile this file with esbuild first):
 *   node bundle.js ROOT OUTDIR
 * bundles the checkout at ROOT and writes OUTDIR/budgie.js, OUTDIR/file-worker.js (the file
 * jobs' worker thread) and OUTDIR/proto/ (the .proto files the agent loads at run time: Budgie's
 * own, the gRPC health service's and server reflection's).
 *   node bundle.js --cli ROOT OUTDIR
 * writes OUTDIR/cli-bundle.js beside the compiled modules (see src/main.ts).
 *
 * In the bundle every module shares one `__dirname` (the bundle's directory), so the few modules
 * that find their .proto files or package.json relative to their own directory are rewritten to
 * look beside the bundle instead. Each rewrite must match exactly as often as expected, so that an
 * upgrade of one of those packages fails the build instead of shipping a broken agent.
 */
import { readFile, writeFile, mkdir, cp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

interface Rewrite {
  /** The module's path relative to the repository root. */
  file: string;
  /** Text to replace, how many times it must occur, and its replacement. */
  edits: { from: string; count: number; to: string }[];
}

function rewrites(version: string): Rewrite[] {
  return [
    {
      file: 'src/agent/api-server.ts',
      edits: [
        { from: "join(__dirname, '..', '..', 'proto')", count: 1, to: "join(__dirname, 'proto')" },
      ],
    },
    {
      file: 'src/version.ts',
      edits: [
        {
          from: 'export const version = readVersion();',
          count: 1,
          to: `export const version = ${JSON.stringify(version)};`,
        },
      ],
    },
    {
      file: 'node_modules/grpc-health-check/build/src/health.js',
      edits: [
        { from: '`${__dirname}/../../proto`', count: 1, to: '`${__dirname}/proto`' },
        {
          from: "path.resolve(__dirname, '../../proto/",
          count: 1,
          to: "path.resolve(__dirname, 'proto/",
        },
      ],
    },
    ...['v1', 'v1alpha'].map((v) => ({
      file: `node_modules/@grpc/reflection/build/src/implementations/reflection-${v}.js`,
      edits: [
        {
          from: "path.join(__dirname, '../../proto/",
          count: 1,
          to: "path.join(__dirname, 'proto/",
        },
      ],
    })),
  ];
}

/** Applies the rewrites while loading and fails the build if one does not match as expected. */
function relocate(root: string, list: Rewrite[]): Plugin {
  const byPath = new Map(list.map((r) => [join(root, r.file), r]));
  const seen = new Set<string>();
  return {
    name: 'budgie-relocate',
    setup(b) {
      b.onLoad({ filter: /\.(ts|js)$/ }, async (args) => {
        const rewrite = byPath.get(args.path);
        if (rewrite === undefined) return undefined;
        let text = await readFile(args.path, 'utf8');
        for (const edit of rewrite.edits) {
          const count = text.split(edit.from).length - 1;
          if (count !== edit.count) {
            throw new Error(
              `${rewrite.file}: expected ${edit.count} × ${edit.from}, found ${count}`,
            );
          }
          text = text.split(edit.from).join(edit.to);
        }
        seen.add(args.path);
        return { contents: text, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
      b.onEnd(() => {
        const missed = [...byPath.keys()].filter((p) => !seen.has(p));
        if (missed.length > 0)
          throw new Error(`not bundled, cannot relocate: ${missed.join(', ')}`);
      });
    },
  };
}

/** The .proto files the bundle loads, by their path under OUTDIR/proto. */
const PROTO_DIRS: [from: string, to: string][] = [
  ['proto', '.'],
  ['node_modules/grpc-health-check/proto/health', 'health'],
  ['node_modules/@grpc/reflection/build/proto/grpc', 'grpc'],
];

/** What every bundle here is: one minified CommonJS file for Node >= 20. */
function common(root: string): BuildOptions {
  return {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    // No source map and no absolute paths: the output must not depend on where the checkout lives.
    sourcemap: false,
    logLevel: 'warning',
  };
}

/**
 * The modules the composition root loads only for `budgie agent` and `budgie nest check`: left
 * out of the CLI's bundle, and loaded at run time from the compiled modules beside it.
 */
const LAZY = new Set(['./agent', './nest/host-probes', './containerd/probe']);

/**
 * Leaves LAZY imports of src/entry.ts to be required at run time, relative to the bundle. Each
 * becomes a module of the bundle whose body is that `require`: an `import()` left as it is would
 * fail, since the bundle runs as a script (src/launch) where Node offers no dynamic import.
 */
function lazyModules(root: string): Plugin {
  const entry = join(root, 'src', 'entry.ts');
  return {
    name: 'budgie-lazy',
    setup(b) {
      b.onResolve({ filter: /^\.\// }, (args) => {
        if (args.namespace === 'lazy') return { path: args.path, external: true };
        return args.importer === entry && LAZY.has(args.path)
          ? { path: args.path, namespace: 'lazy' }
          : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * The CLI's bundle for a `tsc` build: OUTDIR/cli-bundle.js, run by dist/main.js with V8's code cache
 * (src/main.ts). The agent's modules stay out of it: they load from OUTDIR, where tsc put them.
 */
async function bundleCli(root: string, outDir: string, version: string): Promise<void> {
  const result = await build({
    ...common(root),
    entryPoints: ['src/entry.ts'],
    outfile: join(outDir, 'cli-bundle.js'),
    // Loaded by gRPC only for its channelz service, which the CLI never serves.
    external: ['@grpc/proto-loader'],
    // Class names kept: an error from the agent's modules is told by its class's name.
    keepNames: true,
    // ASCII only: src/launch reads the bundle as latin1, a plain copy.
    charset: 'ascii',
    plugins: [
      lazyModules(root),
      relocate(root, [
        ...rewrites(version).filter((r) => r.file === 'src/version.ts'),
        // The checkout is one level above the bundle (dist/), not two as above dist/nest/.
        {
          file: 'src/nest/host-workshop.ts',
          edits: [
            {
              from: "resolve(__dirname, '..', '..')",
              count: 1,
              to: "resolve(__dirname, '..')",
            },
          ],
        },
      ]),
    ],
  });
  if (result.errors.length > 0) throw new Error('esbuild failed on the CLI');
}

async function main(root: string, outDir: string, cli: boolean): Promise<void> {
  const pkg: unknown = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  if (typeof pkg !== 'object' || pkg === null || !('version' in pkg)) {
    throw new Error('package.json: no version');
  }
  const version = String(pkg.version);
  if (cli) {
    await bundleCli(root, outDir, version);
    return;
  }
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    ...common(root),
    entryPoints: ['src/entry.ts'],
    outfile: join(outDir, 'budgie.js'),
    charset: 'utf8',
    plugins: [relocate(root, rewrites(version))],
  });
  if (result.errors.length > 0) throw new Error('esbuild failed');
  // The file jobs' worker thread (src/fs/file-jobs.ts) loads its own script, beside the bundle.
  const worker = await build({
    ...common(root),
    entryPoints: ['src/fs/file-worker.ts'],
    outfile: join(outDir, 'file-worker.js'),
    charset: 'utf8',
  });
  if (worker.errors.length > 0) throw new Error('esbuild failed on the file worker');
  for (const [from, to] of PROTO_DIRS) {
    const target = join(outDir, 'proto', to);
    await mkdir(dirname(target), { recursive: true });
    await cp(join(root, from), target, {
      recursive: true,
      filter: (src) => !src.endsWith('.ts') && !src.endsWith('.js'),
    });
  }
  await writeFile(join(outDir, 'VERSION'), `${version}\n`);
}

const args = process.argv.slice(2);
const cli = args[0] === '--cli';
const [root, outDir] = cli ? args.slice(1) : args;
if (root === undefined || outDir === undefined) {
  process.stderr.write('usage: node bundle.js [--cli] ROOT OUTDIR\n');
  process.exit(2);
}
main(resolve(root), resolve(outDir), cli).catch((err: unknown) => {
  process.stderr.write(`bundle: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
