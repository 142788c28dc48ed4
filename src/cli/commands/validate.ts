import type { CommandModule } from 'yargs';
import type { App } from '../../bundle/types';
import { BudgieError } from '../../errors';
import type { CliDeps, GlobalArgs } from '../context';

interface ValidateArgs extends GlobalArgs {
  files: string[];
}

/** Exit status 1 with every problem of every file, or 0 and one summary line per file. */
export class InvalidBundlesError extends BudgieError {
  readonly kind = 'invalid-input';
}

export function validateCommand(deps: CliDeps): CommandModule<GlobalArgs, ValidateArgs> {
  return {
    command: 'validate <files..>',
    describe: 'Check .bun files and print what they describe',
    builder: (y) =>
      y
        .positional('files', { type: 'string', array: true, demandOption: true })
        .example('$0 validate bundles/hello.bun', ''),
    handler: async (args) => {
      // Loaded on use: the YAML parser and codecs are most of the CLI's start-up otherwise.
      const { loadBundle } = await import('../../bundle');
      const failures: string[] = [];
      for (const file of args.files) {
        try {
          deps.stdout.write(`${file}: ok: ${summarise(await loadBundle(file))}\n`);
        } catch (err) {
          if (!(err instanceof BudgieError)) throw err;
          failures.push(err.message);
        }
      }
      if (failures.length > 0) throw new InvalidBundlesError(failures.join('\n'));
    },
  };
}

function summarise(app: App): string {
  const image = app.image.kind === 'registry' ? app.image.reference : app.image.path;
  const { min, max } = app.replicas;
  const replicas = min === max ? `${min}` : `${min}-${max}`;
  const ports = app.ports.map((p) => `${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
  const parts = [`app ${app.name}`, `image ${image}`, `replicas ${replicas}`];
  if (ports !== '') parts.push(`ports ${ports}`);
  if (app.volumes.length > 0) parts.push(`${app.volumes.length} volume(s)`);
  if (app.healthcheck) parts.push(`healthcheck ${app.healthcheck.path}`);
  return parts.join(', ');
}
