import { spawn } from 'node:child_process';

/** One request of a load run, as the client saw it. */
export interface Sample {
  /** When it started (unix ms). */
  at: number;
  /** How long it took until the answer ended or it failed. */
  ms: number;
  /** The body (a replica's hostname) on HTTP 200, else undefined. */
  body: string | undefined;
  /** Why it failed: a socket error, a timeout or "HTTP <status>"; undefined when it worked. */
  error: string | undefined;
}

export interface LoadOptions {
  netnsPath: string;
  host: string;
  port: number;
  path: string;
  /** Requests in flight at a time, each on a new connection. */
  concurrency: number;
  /** A request not answered by then counts as failed. */
  timeoutMs: number;
}

export interface LoadRun {
  /** The samples so far (the run keeps going). */
  samples(): readonly Sample[];
  /** Ends the run and returns every sample. */
  stop(): Promise<Sample[]>;
}

/**
 * Runs in the client's namespace: `concurrency` loops, each GETting `path` on a fresh connection
 * (no keep-alive, so every request is a new connection through the proxy), one line per request.
 */
const CLIENT = `
const http = require('http');
const [host, port, path, concurrency, timeoutMs] = process.argv.slice(1);
let stopping = false;
process.on('SIGTERM', () => { stopping = true; });
const one = () => new Promise((resolve) => {
  const at = Date.now();
  const done = (body, error) => {
    clearTimeout(timer);
    process.stdout.write(JSON.stringify({ at, ms: Date.now() - at, body, error }) + '\\n');
    resolve();
  };
  const req = http.get({ host, port: Number(port), path, agent: false }, (res) => {
    let b = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (b += c));
    res.on('end', () => done(res.statusCode === 200 ? b.trim() : undefined, res.statusCode === 200 ? undefined : 'HTTP ' + res.statusCode));
    res.on('error', (e) => done(undefined, e.message));
  });
  req.on('error', (e) => done(undefined, e.message));
  const timer = setTimeout(() => req.destroy(new Error('timeout')), Number(timeoutMs));
});
const loop = async () => { while (!stopping) await one(); };
Promise.all(Array.from({ length: Number(concurrency) }, loop)).then(() => process.exit(0));
`;

/** Starts a client that keeps opening new connections to HOST:PORT from inside `netnsPath`. */
export function startLoad(options: LoadOptions): LoadRun {
  const { netnsPath, host, port, path, concurrency, timeoutMs } = options;
  const child = spawn(
    'nsenter',
    [
      `--net=${netnsPath}`,
      process.execPath,
      '-e',
      CLIENT,
      host,
      `${port}`,
      path,
      `${concurrency}`,
      `${timeoutMs}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const samples: Sample[] = [];
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '') samples.push(JSON.parse(line) as Sample);
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  return {
    samples: () => samples,
    stop: async () => {
      // The loops finish their requests in flight, so every started request is counted.
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`load client exited with ${code}: ${stderr}`);
      return samples;
    },
  };
}

/** What a load run saw after an event at `since` (unix ms). */
export interface Outcome {
  /** Requests started in the window. */
  total: number;
  /** Those that failed (error, timeout, non-200). */
  failed: number;
  /** Those that took longer than `slowMs` but worked. */
  slow: number;
  /** The longest a request took. */
  maxMs: number;
  /** From `since` to the end of the last failed or slow request; 0 when there was none. */
  recoveryMs: number;
  /** How many requests each replica (by hostname) answered. */
  answeredBy: Record<string, number>;
  /** The failures' reasons, with how many times each. */
  errors: Record<string, number>;
}

/** Sums up the requests that started in [since, until). */
export function outcome(
  samples: readonly Sample[],
  since: number,
  until: number,
  slowMs: number,
): Outcome {
  const window = samples.filter((s) => s.at >= since && s.at < until);
  let recoveryMs = 0;
  let failed = 0;
  let slow = 0;
  let maxMs = 0;
  const answeredBy: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const s of window) {
    maxMs = Math.max(maxMs, s.ms);
    if (s.error !== undefined) {
      failed++;
      errors[s.error] = (errors[s.error] ?? 0) + 1;
    } else if (s.ms > slowMs) slow++;
    if (s.error !== undefined || s.ms > slowMs) {
      recoveryMs = Math.max(recoveryMs, s.at + s.ms - since);
    }
    if (s.body !== undefined) answeredBy[s.body] = (answeredBy[s.body] ?? 0) + 1;
  }
  return { total: window.length, failed, slow, maxMs, recoveryMs, answeredBy, errors };
}

/** Requests in flight at `at` (started before, ended after) that failed: cut by the event. */
export function failedInFlight(samples: readonly Sample[], at: number): number {
  return samples.filter((s) => s.at < at && s.at + s.ms >= at && s.error !== undefined).length;
}
