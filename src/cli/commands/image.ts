import type { Argv, CommandModule } from 'yargs';
import type { Image } from '../../gen/budgie/v1/images';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs, OutputFormat } from '../context';
import { LayerProgressView, shortDigest } from '../progress';
import { formatAge, formatSize, renderJson, renderTable } from '../table';

interface RefArgs extends GlobalArgs {
  reference: string;
}
interface FileArgs extends GlobalArgs {
  file: string;
}
interface ListArgs extends GlobalArgs {
  format: OutputFormat;
}

/** `budgie image pull|import|ls|rm`: images in the agent's containerd namespace. */
export function imageCommand(deps: CliDeps): CommandModule<GlobalArgs, GlobalArgs> {
  const printDone = (image: Image) => {
    deps.stdout.write(`${image.name} ${image.digest}\n`);
  };

  return {
    command: 'image <command>',
    describe: 'Manage images (pull, import, ls, rm)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command<RefArgs>({
          command: 'pull <reference>',
          describe: 'Pull an image from a registry (Docker Hub short names work)',
          builder: (b) =>
            b
              .positional('reference', { type: 'string', demandOption: true })
              .example('$0 image pull nginx:alpine', '')
              .example('$0 image pull 127.0.0.1:5000/team/app:1.2', ''),
          handler: (args) =>
            withClient(args, async (client) => {
              const view = new LayerProgressView(deps.stderr);
              for await (const ev of client.pullImage(args.reference, deps.signal)) {
                if (ev.event?.$case === 'layer') view.update(ev.event.value);
                else if (ev.event?.$case === 'phase') view.note(ev.event.value);
                else if (ev.event?.$case === 'done') printDone(ev.event.value);
              }
            }),
        })
        .command<FileArgs>({
          command: 'import <file>',
          describe: 'Import an OCI layout tar or a `docker save` tar',
          builder: (b) => b.positional('file', { type: 'string', demandOption: true }),
          handler: (args) =>
            withClient(args, async (client) => {
              for await (const ev of client.importImage(args.file, deps.signal)) {
                if (ev.event?.$case === 'phase') deps.stderr.write(`${ev.event.value}\n`);
                else if (ev.event?.$case === 'done') printDone(ev.event.value);
              }
            }),
        })
        .command<ListArgs>({
          command: 'ls',
          aliases: ['list'],
          describe: 'List images',
          builder: (b) => b.option('format', formatOption),
          handler: (args) =>
            withClient(args, async (client) => {
              const images = await client.listImages();
              deps.stdout.write(args.format === 'json' ? renderJson(images) : imageTable(images));
            }),
        })
        .command<RefArgs>({
          command: 'rm <reference>',
          aliases: ['remove'],
          describe: 'Remove an image',
          builder: (b) => b.positional('reference', { type: 'string', demandOption: true }),
          handler: (args) =>
            withClient(args, async (client) => {
              await client.removeImage(args.reference);
              deps.stdout.write(`removed ${args.reference}\n`);
            }),
        })
        .demandCommand(1, 'name an image command: pull, import, ls or rm'),
    handler: () => undefined,
  };
}

export const formatOption = {
  choices: ['table', 'json'] as const,
  default: 'table' as const,
  describe: 'Output format (json has stable field names)',
};

function imageTable(images: Image[]): string {
  const now = Date.now();
  return renderTable(
    ['NAME', 'DIGEST', 'PLATFORM', 'SIZE', 'CREATED'],
    images.map((i) => [
      i.name,
      shortDigest(i.digest),
      i.platform,
      formatSize(i.size),
      i.createdUnixMs > 0 ? formatAge(i.createdUnixMs, now) : '',
    ]),
  );
}
