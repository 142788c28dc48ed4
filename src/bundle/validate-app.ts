import { isLeft } from 'fp-ts/Either';
import { InvalidInputError } from '../errors';
import { app as appCodec } from './codecs/app';
import { appInvariants } from './invariants';
import { formatPath, type Issue } from './issue';
import { issuesOf } from './report';
import type { App } from './types';

/**
 * Checks a value that claims to be a normalised App (the agent receives it as JSON from a CLI or a
 * peer) against exactly the rules the .bun parser enforces. Throws InvalidInputError naming every
 * bad field on one line.
 */
export function validateApp(value: unknown): App {
  const decoded = appCodec.decode(value);
  const issues = isLeft(decoded) ? issuesOf(decoded.left) : appInvariants(decoded.right);
  if (isLeft(decoded) || issues.length > 0) {
    throw new InvalidInputError(`invalid app: ${issues.map(describeIssue).join('; ')}`);
  }
  return decoded.right;
}

function describeIssue(issue: Issue): string {
  const path = formatPath(issue.path);
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
