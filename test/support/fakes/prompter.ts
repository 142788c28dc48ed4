import type { Choice, Prompter } from '../../../src/nest/prompter';
import { PromptClosedError } from '../../../src/nest/prompter';

/** One scripted answer: a choice's value, a yes/no, or `closed` (the person pressing Ctrl+C). */
export type Answer = string | boolean;

export interface AskedQuestion {
  message: string;
  /** The values offered (select), or undefined for a yes/no question. */
  choices?: string[];
}

/**
 * A Prompter that answers from a script, in order, and records what was asked. An answer that is
 * not among the offered choices, or a question past the script's end, fails the test.
 */
export function scriptedPrompter(script: Answer[]): Prompter & { asked: AskedQuestion[] } {
  const asked: AskedQuestion[] = [];
  const next = (question: AskedQuestion): Answer => {
    asked.push(question);
    const answer = script.shift();
    if (answer === undefined) throw new Error(`no scripted answer for "${question.message}"`);
    if (answer === 'closed') throw new PromptClosedError();
    return answer;
  };
  return {
    asked,
    select<T extends string>(message: string, choices: readonly Choice<T>[]): Promise<T> {
      const answer = next({ message, choices: choices.map((c) => c.value) });
      const chosen = choices.find((c) => c.value === answer);
      if (chosen === undefined) throw new Error(`"${String(answer)}" is no choice of "${message}"`);
      return Promise.resolve(chosen.value);
    },
    confirm(message: string): Promise<boolean> {
      const answer = next({ message });
      if (typeof answer !== 'boolean') throw new Error(`"${message}" wants yes or no`);
      return Promise.resolve(answer);
    },
  };
}
