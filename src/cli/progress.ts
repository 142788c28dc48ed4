import { LayerState, type LayerProgress } from '../gen/budgie/v1/images';
import type { Output } from './context';
import { formatSize } from './table';

const STATE_TEXT: Record<LayerState, string> = {
  [LayerState.LAYER_STATE_UNSPECIFIED]: 'waiting',
  [LayerState.LAYER_STATE_WAITING]: 'waiting',
  [LayerState.LAYER_STATE_DOWNLOADING]: 'downloading',
  [LayerState.LAYER_STATE_EXISTS]: 'already exists',
  [LayerState.LAYER_STATE_DOWNLOADED]: 'downloaded',
  [LayerState.LAYER_STATE_UNPACKED]: 'unpacked',
  [LayerState.UNRECOGNIZED]: 'unknown',
};

const BAR_WIDTH = 30;

/**
 * Shows per-layer progress: bars redrawn in place on a terminal, and one plain line per state
 * change elsewhere (logs and pipes get no byte-by-byte noise).
 */
export class LayerProgressView {
  private readonly layers = new Map<string, LayerProgress>();
  private drawnLines = 0;

  constructor(private readonly out: Output) {}

  update(progress: LayerProgress): void {
    const previous = this.layers.get(progress.digest);
    this.layers.set(progress.digest, progress);
    if (this.out.isTTY) {
      this.redraw();
    } else if (previous?.state !== progress.state) {
      this.out.write(`${shortDigest(progress.digest)}: ${STATE_TEXT[progress.state]}\n`);
    }
  }

  /** Prints a line below the bars (phase changes), keeping the bars intact. */
  note(text: string): void {
    this.out.write(`${text}\n`);
    this.drawnLines = 0;
  }

  private redraw(): void {
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    const lines = [...this.layers.values()].map(renderBar);
    this.out.write(up + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    this.drawnLines = lines.length;
  }
}

function renderBar(p: LayerProgress): string {
  const ratio = p.size > 0 ? Math.min(1, p.done / p.size) : 1;
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar =
    p.state === LayerState.LAYER_STATE_DOWNLOADING
      ? `[${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${formatSize(p.done)}/${formatSize(p.size)}`
      : STATE_TEXT[p.state];
  return `${shortDigest(p.digest)}: ${bar}`;
}

export function shortDigest(digest: string): string {
  const hex = digest.includes(':') ? digest.slice(digest.indexOf(':') + 1) : digest;
  return hex.slice(0, 12);
}
