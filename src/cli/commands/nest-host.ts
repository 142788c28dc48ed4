import type { Prompter } from '../../nest/prompter';
import type { Machine, Workshop } from '../../nest/workshop';
import type { CliDeps } from '../context';

/**
 * The real workshop (processes, links) and terminal prompts, imported on first use: @inquirer and
 * child processes are for `nest` alone, and `budgie --version` must not load them.
 */
export async function loadWorkshop(
  deps: CliDeps,
): Promise<{ workshop: Workshop; machine: Machine }> {
  const host = await import('../../nest/host-workshop');
  return { workshop: host.hostWorkshop(deps.stdout, deps.signal), machine: host.hostMachine() };
}

export async function loadPrompter(deps: CliDeps): Promise<Prompter | undefined> {
  return (await import('../../nest/inquirer-prompter')).terminalPrompter(deps.signal);
}
