import { findLesson, runMenu, type MenuActions } from '../../nest';
import type { CliDeps, GlobalArgs } from '../context';
import { UsageError } from '../failure';
import { buildPackagesFor } from './nest-build';
import { systemCheck } from './nest-check';
import { loadPrompter } from './nest-host';
import { renderLesson } from './nest-output';
import { runQuickStart } from './nest-quickstart';

const NO_TERMINAL =
  'nest: the menu needs a terminal; use budgie nest quickstart, build, check or learn instead';

/** `budgie nest` on a terminal: the menu, whose entries run what the subcommands run. */
export async function runNestMenu(deps: CliDeps, args: GlobalArgs): Promise<void> {
  // Scripts must not hang on a menu that waits for keys.
  const prompter = deps.stdout.isTTY ? await loadPrompter(deps) : undefined;
  if (prompter === undefined) throw new UsageError(NO_TERMINAL);
  const actions: MenuActions = {
    quickStart: (offer) => runQuickStart(deps, offer),
    build: (targets) => buildPackagesFor(deps, targets),
    check: async () => {
      deps.stdout.write((await systemCheck(deps, { json: false, socket: args.socket })).text);
    },
    lesson: (topic) => {
      const lesson = findLesson(topic);
      if (lesson !== undefined) deps.stdout.write(renderLesson(lesson));
    },
  };
  await runMenu(prompter, actions, deps.stdout, deps.stderr);
}
