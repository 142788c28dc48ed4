import { BudgieError } from '../errors';
import { LESSONS } from './lessons';
import type { Output } from './output';
import { PromptClosedError, type Choice, type Prompter } from './prompter';
import { ARCHES, PLATFORMS, selectTargets, type Arch, type Platform, type Target } from './targets';

/** What each entry does; the CLI gives the same handlers its subcommands run. */
export interface MenuActions {
  quickStart(offerService: (question: string) => Promise<boolean>): Promise<void>;
  build(targets: readonly Target[]): Promise<void>;
  check(): Promise<void>;
  lesson(topic: string): void;
}

type Entry = 'quickstart' | 'build' | 'learn' | 'check' | 'quit';

const ENTRIES: readonly Choice<Entry>[] = [
  {
    value: 'quickstart',
    name: 'Quick start',
    description: 'npm ci, build, put budgie on PATH, offer the agent service',
  },
  { value: 'build', name: 'Custom build', description: 'release packages for a platform and arch' },
  { value: 'learn', name: 'Learn Budgie', description: 'short lessons with commands to copy' },
  { value: 'check', name: 'System check', description: 'what this machine has and lacks' },
  { value: 'quit', name: 'Quit' },
];

const BACK = 'back';

const QUICK_START_QUESTION = 'Run npm ci and npm run build here, and link budgie onto PATH?';

/**
 * The main menu, until Quit or a closed prompt. A step that fails prints its one-line error and
 * comes back to the menu, so one missing tool does not end the session; anything that is not a
 * BudgieError is a bug and propagates.
 */
export async function runMenu(
  prompter: Prompter,
  actions: MenuActions,
  out: Output,
  err: Output,
): Promise<void> {
  for (;;) {
    try {
      const entry = await prompter.select('Budgie nest: what would you like to do?', ENTRIES);
      if (entry === 'quit') return;
      await runEntry(entry, prompter, actions);
    } catch (e) {
      if (e instanceof PromptClosedError) return;
      if (!(e instanceof BudgieError)) throw e;
      err.write(`budgie: ${e.message}\n`);
    }
    out.write('\n');
  }
}

async function runEntry(entry: Entry, prompter: Prompter, actions: MenuActions): Promise<void> {
  switch (entry) {
    case 'quickstart': {
      // The first entry, one Enter away: say what it changes before it changes anything.
      const go = await prompter.confirm(QUICK_START_QUESTION, true);
      if (go) await actions.quickStart((question) => prompter.confirm(question, true));
      return;
    }
    case 'build':
      return actions.build(await chooseTargets(prompter));
    case 'learn': {
      const topic = await prompter.select('Which lesson?', [
        ...LESSONS.map((l) => ({ value: l.topic, name: l.title })),
        { value: BACK, name: 'Back' },
      ]);
      if (topic !== BACK) actions.lesson(topic);
      return;
    }
    case 'check':
      return actions.check();
    case 'quit':
      return;
  }
}

async function chooseTargets(prompter: Prompter): Promise<Target[]> {
  const platform = await prompter.select<Platform | 'all'>('Platform?', [
    ...PLATFORMS.map((p) => ({ value: p, name: p === 'darwin' ? 'darwin (macOS)' : p })),
    { value: 'all', name: 'all three' },
  ]);
  const arch = await prompter.select<Arch | 'all'>('Architecture?', [
    ...ARCHES.map((a) => ({ value: a, name: a })),
    { value: 'all', name: 'both' },
  ]);
  return selectTargets(platform, arch);
}
