import { spawn, type ChildProcess } from 'node:child_process';

/** Keys as a terminal sends them. */
export const KEYS = { up: '\x1b[A', down: '\x1b[B', enter: '\r', ctrlC: '\x03' } as const;

export interface PtySession {
  /** Everything the program wrote so far, escape sequences and carriage returns removed. */
  text(): string;
  /** Types `keys` into the terminal. */
  send(keys: string): void;
  /**
   * Waits until `pattern` appears after the previous match (so a menu drawn again is seen again),
   * and returns the text from the previous match up to and including this one.
   */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the program's exit status once it ends. */
  exited: Promise<number | null>;
  /** SIGKILL, for cleanup after a failed test. */
  kill(): void;
}

/**
 * Runs `argv` on a pseudo-terminal of `cols`×`rows` through util-linux `script` (in every Debian
 * install, no native addon): the program sees a real terminal on stdin and stdout, in raw mode
 * when it asks for it; what it prints comes back here, and `send` types into it.
 */
export function startInPty(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; cols?: number; rows?: number } = {},
): PtySession {
  const command = `stty cols ${options.cols ?? 100} rows ${options.rows ?? 40}; exec ${argv.map(quote).join(' ')}`;
  const child: ChildProcess = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd,
    env: { TERM: 'xterm-256color', ...(options.env ?? process.env) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  let cursor = 0;
  const onData = (chunk: Buffer): void => {
    raw += chunk.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      resolve(code);
    }),
  );
  const text = (): string => strip(raw);

  return {
    text,
    send: (keys) => {
      child.stdin?.write(keys);
    },
    exited,
    kill: () => child.kill('SIGKILL'),
    waitFor: async (pattern, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = text();
        const rest = all.slice(cursor);
        const match = rest.match(typeof pattern === 'string' ? literal(pattern) : pattern);
        if (match !== null && match.index !== undefined) {
          const end = cursor + match.index + match[0].length;
          const seen = all.slice(cursor, end);
          cursor = end;
          return seen;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `pty: no ${String(pattern)} within ${timeoutMs} ms; after the last match:\n${rest.slice(-3000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const ESC = '\\u001b';
const BEL = '\\u0007';
const ESCAPES = [
  new RegExp(`${ESC}\\[[0-9;?]*[ -/]*[@-~]`, 'g'), // CSI: cursor moves, colours, erasing
  new RegExp(`${ESC}\\][^${BEL}]*${BEL}`, 'g'), // OSC: window titles
  new RegExp(`${ESC}[=>]`, 'g'), // keypad modes
  /\r/g,
];

function strip(text: string): string {
  return ESCAPES.reduce((t, re) => t.replace(re, ''), text);
}

function literal(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
