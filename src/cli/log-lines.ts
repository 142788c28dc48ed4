import { StringDecoder } from 'node:string_decoder';
import type { Output } from './context';
import { shortId } from './replicas';

/**
 * Writes log chunks of one or more replicas. Unprefixed, bytes pass straight through. Prefixed
 * (an app with several replicas), each replica's partial line waits in its own buffer until its
 * newline, so that `<id> | ` always lands at a line start and lines never interleave mid-way.
 * Switching to prefixed mid-stream (a second replica appears) starts a fresh line first.
 */
export class LogLineWriter {
  private readonly replicas = new Map<string, { decoder: StringDecoder; partial: string }>();
  private atLineStart = true;

  constructor(
    private readonly out: Output,
    private prefixed: boolean,
  ) {}

  write(replicaId: string, data: Buffer): void {
    const replica = this.replica(replicaId);
    const text = replica.decoder.write(data);
    if (this.replicas.size > 1 && !this.prefixed) {
      if (!this.atLineStart) this.out.write('\n');
      this.prefixed = true;
    }
    if (!this.prefixed) {
      if (text === '') return;
      this.out.write(text);
      this.atLineStart = text.endsWith('\n');
      return;
    }
    const lines = (replica.partial + text).split('\n');
    replica.partial = lines.pop() ?? '';
    const prefix = `${shortId(replicaId)} | `;
    if (lines.length > 0) this.out.write(lines.map((l) => `${prefix}${l}\n`).join(''));
  }

  /** At the end of the stream: every replica's unfinished last line, newline-terminated. */
  end(): void {
    for (const [id, replica] of this.replicas) {
      const rest = replica.partial + replica.decoder.end();
      replica.partial = '';
      if (rest === '') continue;
      if (this.prefixed) this.out.write(`${shortId(id)} | ${rest}\n`);
      else this.out.write(rest);
    }
  }

  private replica(id: string): { decoder: StringDecoder; partial: string } {
    let replica = this.replicas.get(id);
    if (replica === undefined) {
      replica = { decoder: new StringDecoder('utf8'), partial: '' };
      this.replicas.set(id, replica);
    }
    return replica;
  }
}
