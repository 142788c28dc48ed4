import type { CommandModule } from 'yargs';
import { quickStart } from '../../nest';
import type { CliDeps, GlobalArgs } from '../context';
import { loadPrompter, loadWorkshop } from './nest-host';

interface QuickStartArgs extends GlobalArgs {
  yes: boolean;
  'bin-dir'?: string;
}

/** Quick start with the service offer answered by `answer` (a prompt, or the --yes flag). */
export async function runQuickStart(
  deps: CliDeps,
  offerService: (question: string) => Promise<boolean>,
  binDir?: string,
): Promise<void> {
  const { workshop, machine } = await loadWorkshop(deps);
  await quickStart(workshop, machine, deps.stdout, {
    offerService,
    ...(binDir === undefined ? {} : { binDir }),
  });
}

export function quickStartCommand(deps: CliDeps): CommandModule<GlobalArgs, QuickStartArgs> {
  return {
    command: 'quickstart',
    describe: 'From a clone: npm ci, build, link budgie onto PATH, offer the agent service',
    builder: (y) =>
      y
        .option('yes', {
          alias: 'y',
          type: 'boolean',
          default: false,
          describe: 'Install the agent service without asking (as root, on Linux)',
        })
        .option('bin-dir', {
          type: 'string',
          describe: 'Where to link budgie [default: /usr/local/bin as root, else ~/.local/bin]',
        }),
    handler: async (args) => {
      const offer = async (question: string): Promise<boolean> => {
        if (args.yes) return true;
        // Without a terminal nobody can answer: leave the service out, and say how to add it.
        const prompter = deps.stdout.isTTY ? await loadPrompter(deps) : undefined;
        return prompter === undefined ? false : prompter.confirm(question, true);
      };
      await runQuickStart(deps, offer, args['bin-dir']);
    },
  };
}
