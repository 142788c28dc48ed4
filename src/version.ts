import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Budgie's version, from package.json at the package root (beside dist/ and src/). */
function readVersion(): string {
  const text = readFileSync(join(__dirname, '..', 'package.json'), 'utf8');
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed) {
    return String(parsed.version);
  }
  return 'unknown';
}

export const version = readVersion();
