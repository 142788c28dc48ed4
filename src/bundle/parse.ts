import { dirname, resolve } from 'node:path';
import { isLeft } from 'fp-ts/Either';
import { bunFile } from './codecs/bun-file';
import { appInvariants } from './invariants';
import type { Issue, PathSegment } from './issue';
import { formatPath } from './issue';
import { normalise } from './normalise';
import { BundleError, type BundleProblem } from './problems';
import { issuesOf } from './report';
import type { App } from './types';
import { readYaml, type YamlTree } from './yaml-tree';

/** App field names that differ in the .bun file, so invariant problems name what the user wrote. */
const BUN_NAMES: Record<string, string> = {
  containerPort: 'container_port',
  hostPort: 'host_port',
  intervalMs: 'interval',
  timeoutMs: 'timeout',
  stopTimeoutMs: 'stop_timeout',
};

/**
 * Parses, validates and normalises a .bun file's text. `file` names the file in messages, and its
 * folder anchors relative paths. Throws a BundleError with every problem found.
 */
export function parseBundle(text: string, file: string): App {
  const { tree, issues: yamlIssues } = readYaml(text);
  const problems: BundleProblem[] = yamlIssues.map((issue) => ({ file, ...issue }));
  if (tree === undefined) throw new BundleError(problems);
  const place = (issue: Issue): BundleProblem => ({
    file,
    ...tree.locate(issue),
    path: formatPath(issue.path),
    message: issue.message,
  });
  const app = decode(tree, dirname(resolve(file)), (issue) => problems.push(place(issue)));
  if (app === undefined || problems.length > 0) throw new BundleError(problems);
  return app;
}

function decode(tree: YamlTree, dir: string, report: (issue: Issue) => void): App | undefined {
  const decoded = bunFile.decode(tree.value);
  if (isLeft(decoded)) {
    issuesOf(decoded.left).forEach(report);
    return undefined;
  }
  const app = normalise(decoded.right, { dir, sourceOf: tree.sourceOf });
  for (const issue of appInvariants(app)) report({ ...issue, path: toBunPath(issue.path) });
  return app;
}

function toBunPath(path: readonly PathSegment[]): PathSegment[] {
  return path.map((segment) =>
    typeof segment === 'string' ? (BUN_NAMES[segment] ?? segment) : segment,
  );
}
