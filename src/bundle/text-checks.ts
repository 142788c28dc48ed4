/** Checks on the raw text, before any YAML parser sees it. */

/**
 * Far beyond any real .bun (a few hundred bytes). The YAML parser spends about a second per 100 KiB
 * of the worst input (one error object per token), so the cap also bounds the time a hostile file
 * costs.
 */
export const MAX_BUNDLE_BYTES = 256 * 1024;

const MAX_FLOW_DEPTH = 64;

/** YAML allows tab, LF and CR among the C0 controls; anything else means the file is not text. */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f;
}

/** The offset and message of the first reason the text is unfit to parse, if any. */
export function textProblem(text: string): { offset: number; message: string } | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BUNDLE_BYTES) {
    return { offset: 0, message: `file too large (${bytes} bytes; a .bun is at most 256 KiB)` };
  }
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isControl(code)) {
      const hex = code.toString(16).padStart(2, '0');
      return { offset: i, message: `not a text file (control byte 0x${hex})` };
    }
    // The YAML parser recurses per [ or { and, given hundreds of thousands, runs out of stack or
    // memory. Counting brackets inside quotes too can only overcount, and no .bun comes near this.
    if (code === 0x5b || code === 0x7b) depth += 1;
    else if (code === 0x5d || code === 0x7d) depth = Math.max(0, depth - 1);
    if (depth > MAX_FLOW_DEPTH) {
      return { offset: i, message: `nested too deeply (more than ${MAX_FLOW_DEPTH} [ or { open)` };
    }
  }
  return undefined;
}
