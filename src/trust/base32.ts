/**
 * RFC 4648 base32, lowercase and without padding: tokens are typed and pasted by people, and
 * base32 survives both (no case games, no `+/=` that shells and URLs mangle).
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export const BASE32_PATTERN = /^[a-z2-7]*$/;

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET.charAt((value << (5 - bits)) & 31);
  return out;
}

/** The length of the encoding of `byteCount` bytes. */
export function base32Length(byteCount: number): number {
  return Math.ceil((byteCount * 8) / 5);
}

/** Decodes text that matched BASE32_PATTERN; trailing bits that do not fill a byte are dropped. */
export function base32Decode(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    value = ((value << 5) | ALPHABET.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
