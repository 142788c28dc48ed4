import type { CheckResult, Lesson } from '../../nest';
import { summarize } from '../../nest';
import { renderJson, renderTable } from '../table';

/** The table, with each fix on its own line under the check it fixes, and a summary line. */
export function renderChecks(results: readonly CheckResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    rows.push([r.check, r.status, r.detail]);
    if (r.fix !== null) rows.push(['', '', `fix: ${r.fix}`]);
  }
  const counts = summarize(results);
  const verdict =
    counts.missing > 0
      ? 'Budgie cannot run here until what is missing is fixed'
      : 'everything Budgie needs is here';
  const summary = `${counts.ok} ok, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}, ${counts.missing} missing: ${verdict}`;
  return renderTable(['CHECK', 'STATUS', 'DETAIL'], rows) + `${summary}\n`;
}

/** Fields in a fixed order, so that scripts and diffs see a stable document. */
export function checksJson(results: readonly CheckResult[]): string {
  const stable = results.map(({ check, status, detail, fix }) => ({ check, status, detail, fix }));
  return renderJson(stable);
}

export function renderLesson(lesson: Lesson): string {
  return [lesson.title, '', ...lesson.lines, ''].join('\n');
}

export function renderTopics(lessons: readonly Lesson[]): string {
  const width = Math.max(...lessons.map((l) => l.topic.length));
  const rows = lessons.map((l) => `  ${l.topic.padEnd(width)}   ${l.title}`);
  return ['Lessons (budgie nest learn TOPIC):', ...rows, ''].join('\n');
}
