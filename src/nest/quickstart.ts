import { join } from 'node:path';
import type { Output } from './output';
import type { Machine, Workshop } from './workshop';

export interface QuickStartOptions {
  /** Where to link `budgie`; default /usr/local/bin for root, ~/.local/bin otherwise. */
  binDir?: string;
  /** Asked before installing the agent's systemd unit; resolves to the answer. */
  offerService(question: string): Promise<boolean>;
}

const SERVICE_QUESTION = 'Install the agent as a systemd service (install.sh)?';

/**
 * Quick start from a checkout: dependencies, build, `budgie` on PATH, the agent's service if
 * wanted, then what to do next. Stops at the first step that fails (its error says which).
 */
export async function quickStart(
  workshop: Workshop,
  machine: Machine,
  out: Output,
  options: QuickStartOptions,
): Promise<void> {
  out.write(`==> 1/4 npm ci (in ${workshop.checkout})\n`);
  await workshop.installDependencies();
  out.write('==> 2/4 npm run build\n');
  await workshop.build();

  const binDir = options.binDir ?? defaultBinDir(machine);
  const link = await workshop.linkCli(binDir);
  out.write(`==> 3/4 linked ${link} -> ${join(workshop.checkout, 'dist', 'main.js')}\n`);
  const onPath = machine.pathDirs.includes(binDir);
  if (!onPath) out.write(`    ${binDir} is not on PATH: add it (export PATH="${binDir}:$PATH")\n`);

  const service = await serviceStep(workshop, machine, options);
  out.write(`==> 4/4 ${service.said}\n`);
  out.write(nextSteps(service.installed));
}

function defaultBinDir(machine: Machine): string {
  return machine.isRoot ? '/usr/local/bin' : join(machine.home, '.local', 'bin');
}

async function serviceStep(
  workshop: Workshop,
  machine: Machine,
  options: QuickStartOptions,
): Promise<{ installed: boolean; said: string }> {
  if (machine.platform !== 'linux') {
    return { installed: false, said: 'no agent service: the agent needs Linux with containerd' };
  }
  if (!machine.isRoot) {
    return {
      installed: false,
      said: 'no agent service: installing it needs root (later: sudo ./install.sh)',
    };
  }
  if (!(await options.offerService(SERVICE_QUESTION))) {
    return { installed: false, said: 'no agent service (later: ./install.sh)' };
  }
  await workshop.installService();
  return { installed: true, said: 'installed the budgie-agent systemd unit (install.sh)' };
}

function nextSteps(serviceInstalled: boolean): string {
  const agent = serviceInstalled
    ? 'systemctl start budgie-agent          # start the agent'
    : 'budgie agent &                        # start the agent, as root';
  return [
    '',
    'Next steps:',
    '  budgie nest check                     # what this machine still lacks, with fixes',
    `  ${agent}`,
    '  make images && budgie run bundles/hello.bun',
    '  budgie nest learn                     # short lessons',
    '',
  ].join('\n');
}
