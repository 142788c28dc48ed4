import type { CommandModule } from 'yargs';
import { findLesson, LESSONS } from '../../nest';
import type { CliDeps, GlobalArgs } from '../context';
import { UsageError } from '../failure';
import { renderLesson, renderTopics } from './nest-output';

interface LearnArgs extends GlobalArgs {
  topic?: string;
}

export function learnCommand(deps: CliDeps): CommandModule<GlobalArgs, LearnArgs> {
  return {
    command: 'learn [topic]',
    describe: 'Short lessons with commands to copy (lists the topics when none is named)',
    builder: (y) => y.positional('topic', { type: 'string', describe: 'A lesson topic' }),
    handler: (args) => {
      if (args.topic === undefined) {
        deps.stdout.write(renderTopics(LESSONS));
        return;
      }
      const lesson = findLesson(args.topic);
      if (lesson === undefined) {
        const topics = LESSONS.map((l) => l.topic).join(', ');
        throw new UsageError(`topic: expected one of ${topics}, got "${args.topic}"`);
      }
      deps.stdout.write(renderLesson(lesson));
    },
  };
}
