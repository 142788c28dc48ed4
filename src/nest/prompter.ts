import { BudgieError } from '../errors';

/**
 * The questions the menu asks, behind one interface so that the menu's flow is tested with
 * scripted answers and only inquirer-prompter.ts touches the terminal.
 */
export interface Prompter {
  /** One of the choices, picked with the arrow keys and Enter. */
  select<T extends string>(message: string, choices: readonly Choice<T>[]): Promise<T>;
  confirm(message: string, preset: boolean): Promise<boolean>;
}

export interface Choice<T extends string> {
  value: T;
  name: string;
  description?: string;
}

/**
 * The person closed the prompt (Ctrl+C, Ctrl+D). The menu ends quietly on it; a BudgieError so
 * that, should it escape elsewhere, it still prints one line.
 */
export class PromptClosedError extends BudgieError {
  readonly kind = 'failed-precondition';
  constructor() {
    super('nest: the prompt was closed');
  }
}
