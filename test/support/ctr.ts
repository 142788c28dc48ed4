import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { PrivateContainerd } from './containerd';
import { pause, until } from './http-get';

const run = promisify(execFile);

/** containerd as `ctr` sees it: what the agent's own API could hide. */
export class Ctr {
  constructor(private readonly containerd: PrivateContainerd) {}

  private get base(): string[] {
    return ['--address', this.containerd.socket, '-n', this.containerd.namespace];
  }

  /** The host PID of a container's task. */
  async taskPid(id: string): Promise<number> {
    const { stdout } = await run('ctr', [...this.base, 'task', 'ls']);
    const line = stdout.split('\n').find((l) => l.startsWith(id));
    const pid = Number(line?.split(/\s+/)[1]);
    if (!(pid > 1)) throw new Error(`no task ${id} in:\n${stdout}`);
    return pid;
  }

  async containerIds(): Promise<string[]> {
    const { stdout } = await run('ctr', [...this.base, 'containers', 'ls', '-q']);
    return stdout
      .split('\n')
      .filter((l) => l !== '')
      .sort();
  }

  /** Records containerd's events from when it resolves; `stop()` returns what came. */
  async events(): Promise<{ stop(): string }> {
    const child = spawn('ctr', [...this.base, 'events'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    const stop = (): string => {
      child.kill();
      return text;
    };
    try {
      // Subscribed once an event of our own comes through.
      await until('ctr events to subscribe', 10_000, async () => {
        const label = ['namespaces', 'label', this.containerd.namespace, `mark=${Date.now()}`];
        await run('ctr', ['--address', this.containerd.socket, ...label]);
        await pause(100);
        return text.includes('/namespaces/update') ? true : undefined;
      });
    } catch (err) {
      stop();
      throw err;
    }
    return { stop };
  }
}
