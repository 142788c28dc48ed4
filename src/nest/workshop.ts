import type { Target } from './targets';

/**
 * The external actions of Quick start and Custom build (npm, the build scripts, install.sh, the
 * link on PATH), behind one interface so that their flow is tested with a fake and only
 * host-workshop.ts runs anything. Each action streams its output and rejects with a one-line
 * BudgieError.
 */
export interface Workshop {
  /** The Budgie checkout everything runs in. */
  readonly checkout: string;
  /** `npm ci`. */
  installDependencies(): Promise<void>;
  /** `npm run build`: dist/main.js, the `budgie` executable. */
  build(): Promise<void>;
  /** Points `binDir/budgie` at the checkout's dist/main.js; returns the link's path. */
  linkCli(binDir: string): Promise<string>;
  /** install.sh: the CLI under /usr/local, the config, and the systemd unit for the agent. */
  installService(): Promise<void>;
  /** build-all.sh for these targets; returns the folder and the files it wrote there. */
  buildPackages(targets: readonly Target[]): Promise<BuiltPackages>;
}

export interface BuiltPackages {
  dir: string;
  files: string[];
}

/** The facts about this machine that decide where to link and what to offer. */
export interface Machine {
  isRoot: boolean;
  /** `process.platform`. */
  platform: string;
  home: string;
  /** The folders of PATH, in order. */
  pathDirs: readonly string[];
}
