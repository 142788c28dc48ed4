/** Checks on the raw text, before any YAML parser sees it. */

/** Far beyond any real .bun; keeps a hostile file from costing time or memory. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/** YAML allows tab, LF and CR among the C0 controls; anything else means the file is not text. */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f;
}

/** The offset and message of the first reason the text is unfit to parse, if any. */
export function textProblem(text: string): { offset: number; message: string } | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BUNDLE_BYTES) {
    return { offset: 0, message: `file too large (${bytes} bytes; a .bun is at most 1 MiB)` };
  }
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isControl(code)) {
      const hex = code.toString(16).padStart(2, '0');
      return { offset: i, message: `not a text file (control byte 0x${hex})` };
    }
  }
  return undefined;
}
