import { FailedPreconditionError } from '../../../src/errors';
import { runMenu, type MenuActions } from '../../../src/nest/menu';
import type { Target } from '../../../src/nest/targets';
import { scriptedPrompter, type Answer, type AskedQuestion } from '../../support/fakes/prompter';

interface Run {
  done: string[];
  out: string;
  err: string;
  asked: string[];
  questions: AskedQuestion[];
}

/** Runs the menu on scripted answers; `done` lists the actions it took, in order. */
async function menu(script: Answer[], change: Partial<MenuActions> = {}): Promise<Run> {
  const done: string[] = [];
  let out = '';
  let err = '';
  const prompter = scriptedPrompter(script);
  const actions: MenuActions = {
    quickStart: async (offer) => {
      done.push(`quickstart, service: ${String(await offer('Install the service?'))}`);
    },
    build: (targets: readonly Target[]) => {
      done.push(`build ${targets.join(' ')}`);
      return Promise.resolve();
    },
    check: () => {
      done.push('check');
      return Promise.resolve();
    },
    lesson: (topic) => done.push(`lesson ${topic}`),
    ...change,
  };
  const write = (to: 'out' | 'err') => ({
    write: (t: string) => (to === 'out' ? (out += t) : (err += t)),
  });
  await runMenu(prompter, actions, write('out'), write('err'));
  expect(script).toEqual([]); // every scripted answer was asked for
  return { done, out, err, asked: prompter.asked.map((q) => q.message), questions: prompter.asked };
}

describe('the nest menu', () => {
  it('offers the five entries, in order, and ends on Quit', async () => {
    const r = await menu(['quit']);
    expect(r.questions).toEqual([
      {
        message: 'Budgie nest: what would you like to do?',
        choices: ['quickstart', 'build', 'learn', 'check', 'quit'],
      },
    ]);
    expect(r.done).toEqual([]);
  });

  it('runs the system check and comes back to the menu', async () => {
    const r = await menu(['check', 'check', 'quit']);
    expect(r.done).toEqual(['check', 'check']);
    expect(r.asked).toHaveLength(3);
  });

  it('shows the chosen lesson, or none on Back', async () => {
    const r = await menu(['learn', 'lan', 'learn', 'back', 'quit']);
    expect(r.done).toEqual(['lesson lan']);
    expect(r.questions[1]?.choices).toEqual([
      'first-container',
      'lan',
      'replication',
      'managing',
      'bun-file',
      'back',
    ]);
  });

  it('builds the targets chosen by platform and arch, "all" on either side', async () => {
    const r = await menu([
      'build',
      'windows',
      'amd64',
      'build',
      'linux',
      'all',
      'build',
      'all',
      'arm64',
      'quit',
    ]);
    expect(r.done).toEqual([
      'build windows/amd64',
      'build linux/amd64 linux/arm64',
      'build linux/arm64 darwin/arm64 windows/arm64',
    ]);
  });

  it('asks before Quick start, and passes its service question to the prompter', async () => {
    const r = await menu(['quickstart', false, 'quickstart', true, false, 'quit']);
    expect(r.done).toEqual(['quickstart, service: false']);
    expect(r.asked[1]).toBe('Run npm ci and npm run build here, and link budgie onto PATH?');
    expect(r.asked[4]).toBe('Install the service?');
  });

  it('prints a failed step as one line on stderr and comes back to the menu', async () => {
    const r = await menu(['check', 'learn', 'managing', 'quit'], {
      check: () => Promise.reject(new FailedPreconditionError('nest: no checkout here')),
    });
    expect(r.err).toBe('budgie: nest: no checkout here\n');
    expect(r.done).toEqual(['lesson managing']);
  });

  it('ends quietly when the prompt is closed (Ctrl+C), in the menu or below it', async () => {
    expect((await menu(['closed'])).done).toEqual([]);
    expect((await menu(['build', 'linux', 'closed'])).done).toEqual([]);
  });

  it('lets a bug (not a BudgieError) through to the CLI', async () => {
    await expect(
      menu(['check'], { check: () => Promise.reject(new TypeError('oops')) }),
    ).rejects.toThrow('oops');
  });
});
