import { resolve } from 'node:path';
import type { BunFile } from './codecs/bun-file';
import type { RawVariable } from './codecs/environment';
import type { PathSegment } from './issue';
import type { App, Healthcheck, ImageSource } from './types';

/** Docker's healthcheck defaults, and its grace between SIGTERM and SIGKILL (Compose's 10s). */
export const DEFAULTS = {
  intervalMs: 30_000,
  timeoutMs: 5_000,
  retries: 3,
  stopTimeoutMs: 10_000,
} as const;

export interface NormaliseContext {
  /** The .bun file's folder: relative paths in it are relative to this. */
  dir: string;
  /** A scalar's text as written (see YamlTree.sourceOf). */
  sourceOf(path: readonly PathSegment[]): string | undefined;
}

/** Fills every default and resolves paths against the file's folder. */
export function normalise(bun: BunFile, ctx: NormaliseContext): App {
  const image: ImageSource =
    bun.image.kind === 'registry'
      ? bun.image
      : { kind: 'archive', path: resolve(ctx.dir, bun.image.file) };
  const min = bun.replicas?.min ?? 1;
  const app: App = {
    version: bun.version,
    name: bun.name,
    image,
    ports: (bun.ports ?? []).map((p) => ({
      containerPort: p.container_port,
      hostPort: p.host_port,
      protocol: p.protocol ?? 'tcp',
    })),
    volumes: (bun.volumes ?? []).map((v) => ({
      source: resolve(ctx.dir, v.source),
      target: v.target,
      mode: v.mode ?? 'rw',
    })),
    environment: (bun.environment ?? []).map((v) => ({ name: v.name, value: envText(v, ctx) })),
    replicas: { min, max: bun.replicas?.max ?? min },
    restart: bun.restart ?? 'always',
    stopTimeoutMs: bun.stop_timeout ?? DEFAULTS.stopTimeoutMs,
  };
  if (bun.healthcheck !== undefined) app.healthcheck = healthcheckOf(bun.healthcheck);
  if (bun.command !== undefined) app.command = bun.command;
  if (bun.entrypoint !== undefined) app.entrypoint = bun.entrypoint;
  if (bun.workdir !== undefined) app.workdir = bun.workdir;
  if (bun.hostname !== undefined) app.hostname = bun.hostname;
  return app;
}

function healthcheckOf(raw: NonNullable<BunFile['healthcheck']>): Healthcheck {
  const intervalMs = raw.interval ?? DEFAULTS.intervalMs;
  return {
    path: raw.path,
    intervalMs,
    // A short interval with no timeout given gets a timeout that fits in it, rather than an error
    // about a value the user never wrote.
    timeoutMs: raw.timeout ?? Math.min(DEFAULTS.timeoutMs, intervalMs),
    retries: raw.retries ?? DEFAULTS.retries,
  };
}

/** Map values that YAML read as numbers or booleans keep their written text; empty is "". */
function envText(v: RawVariable, ctx: NormaliseContext): string {
  if (typeof v.value === 'string') return v.value;
  if (v.value === null) return '';
  return ctx.sourceOf(['environment', v.name]) ?? String(v.value);
}
