import { validateApp } from '../bundle/validate-app';
import { InvalidInputError } from '../errors';
import type { AppRecord } from './types';

/** App names are DNS labels (the .bun rule), which also makes them safe file names. */
const APP_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkAppName(name: string): void {
  if (!APP_NAME.test(name)) {
    throw new InvalidInputError(`app name: expected a DNS label, got ${JSON.stringify(name)}`);
  }
}

/**
 * Checks a parsed state file: a valid app named as the file is, a scale within its replica range
 * and a timestamp. Throws InvalidInputError naming the bad field.
 */
export function decodeRecord(value: unknown, expectedName: string): AppRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('expected an object with app, scale and updatedMs');
  }
  const app = validateApp('app' in value ? value.app : undefined);
  if (app.name !== expectedName) {
    throw new InvalidInputError(
      `app.name: expected ${JSON.stringify(expectedName)} (the file's name), got ${JSON.stringify(app.name)}`,
    );
  }
  const scale = 'scale' in value ? value.scale : undefined;
  const { min, max } = app.replicas;
  if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < min || scale > max) {
    throw new InvalidInputError(
      `scale: expected an integer from ${min} to ${max}, got ${show(scale)}`,
    );
  }
  const updatedMs = 'updatedMs' in value ? value.updatedMs : undefined;
  if (typeof updatedMs !== 'number' || !Number.isFinite(updatedMs) || updatedMs < 0) {
    throw new InvalidInputError(
      `updatedMs: expected a time in milliseconds, got ${show(updatedMs)}`,
    );
  }
  return { app, scale, updatedMs };
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
