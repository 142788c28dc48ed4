import confirm from '@inquirer/confirm';
import select from '@inquirer/select';
import type { Prompter } from './prompter';
import { PromptClosedError } from './prompter';

/**
 * The real terminal, through @inquirer (arrow keys, Enter). Loaded only for the menu, so that
 * other commands do not pay for it. Undefined when stdin or stdout is not a terminal: a menu
 * there would wait for keys nobody can press.
 */
export function terminalPrompter(signal: AbortSignal): Prompter | undefined {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return undefined;
  const context = { signal };
  return {
    select: (message, choices) => closable(select({ message, choices, loop: false }, context)),
    confirm: (message, preset) => closable(confirm({ message, default: preset }, context)),
  };
}

/** Ctrl+C or Ctrl+D inside a prompt (ExitPromptError), or SIGTERM (AbortPromptError). */
async function closable<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (e) {
    if (e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) {
      throw new PromptClosedError();
    }
    throw e;
  }
}
