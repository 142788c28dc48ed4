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
  const standIns = optionalCount(value, 'standIns', 0, max - scale);
  const clusterMin = optionalCount(value, 'clusterMin', 1, max);
  return {
    app,
    scale,
    ...(standIns === undefined ? {} : { standIns }),
    ...(clusterMin === undefined ? {} : { clusterMin }),
    updatedMs,
  };
}

/** An optional integer field from `low` to `high`; files written before it existed lack it. */
function optionalCount(
  value: object,
  field: 'standIns' | 'clusterMin',
  low: number,
  high: number,
): number | undefined {
  const n: unknown = Reflect.get(value, field);
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < low || n > high) {
    throw new InvalidInputError(
      `${field}: expected an integer from ${low} to ${high}, got ${show(n)}`,
    );
  }
  return n;
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
