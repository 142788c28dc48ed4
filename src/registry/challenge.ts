/**
 * WWW-Authenticate parsing (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `key=value` or `key="quoted value"` parameters.
 *
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"
 */
export interface Challenge {
  /** Lower case: "bearer", "basic". */
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const SPACE = /[ \t,]*/y;

export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let pos = 0;
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const m = re.exec(header);
    if (m === null) return undefined;
    pos = re.lastIndex;
    return m[0];
  };
  for (;;) {
    match(SPACE);
    const word = match(TOKEN);
    if (word === undefined) return challenges;
    if (header[pos] === '=' && challenges.length > 0) {
      pos++;
      const value = quotedOrToken(header, pos);
      pos = value.end;
      const current = challenges[challenges.length - 1];
      if (current !== undefined) current.params[word.toLowerCase()] = value.text;
    } else {
      challenges.push({ scheme: word.toLowerCase(), params: {} });
    }
  }
}

function quotedOrToken(header: string, start: number): { text: string; end: number } {
  if (header[start] !== '"') {
    TOKEN.lastIndex = start;
    const m = TOKEN.exec(header);
    return m === null ? { text: '', end: start } : { text: m[0], end: TOKEN.lastIndex };
  }
  let text = '';
  let i = start + 1;
  while (i < header.length && header[i] !== '"') {
    if (header[i] === '\\') i++;
    text += header[i] ?? '';
    i++;
  }
  return { text, end: i + 1 };
}
