import { FailedPreconditionError } from '../../../src/errors';
import type { Target } from '../../../src/nest/targets';
import type { BuiltPackages, Machine, Workshop } from '../../../src/nest/workshop';

type Step = 'installDependencies' | 'build' | 'linkCli' | 'installService' | 'buildPackages';

/** A Workshop that records each call (with its argument) and fails the steps it is told to. */
export interface FakeWorkshop extends Workshop {
  calls: string[];
  failing: Set<Step>;
}

export function fakeWorkshop(checkout = '/src/budgie'): FakeWorkshop {
  const calls: string[] = [];
  const failing = new Set<Step>();
  const step = (name: Step, detail?: string): Promise<void> => {
    calls.push(detail === undefined ? name : `${name} ${detail}`);
    return failing.has(name)
      ? Promise.reject(new FailedPreconditionError(`${name}: exited with status 1`))
      : Promise.resolve();
  };
  return {
    calls,
    failing,
    checkout,
    installDependencies: () => step('installDependencies'),
    build: () => step('build'),
    linkCli: async (binDir) => {
      await step('linkCli', binDir);
      return `${binDir}/budgie`;
    },
    installService: () => step('installService'),
    buildPackages: async (targets: readonly Target[]): Promise<BuiltPackages> => {
      await step('buildPackages', targets.join(' '));
      const files = targets.map((t) => `budgie-1.0.0-${t.replace('/', '-')}.tar.gz`);
      return { dir: `${checkout}/dist-packages`, files: [...files, 'SHA256SUMS'] };
    },
  };
}

export function fakeMachine(change: Partial<Machine> = {}): Machine {
  return {
    isRoot: true,
    platform: 'linux',
    home: '/root',
    pathDirs: ['/usr/local/bin', '/usr/bin'],
    ...change,
  };
}
