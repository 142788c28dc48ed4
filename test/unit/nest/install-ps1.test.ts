import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const ps1 = readFileSync(join(ROOT, 'install.ps1'), 'utf8');
const sh = readFileSync(join(ROOT, 'install.sh'), 'utf8');

/** The commented settings of a config template: `#key: value` lines and list items. */
function settings(text: string): string[] {
  return text.split('\n').filter((l) => /^#([a-z_]+:| {2}- )/.test(l));
}

// pwsh is not available where the tests run: these keep install.ps1 consistent with install.sh
// and the CLI; running it is left to a Windows machine.
describe('install.ps1', () => {
  it('writes the same commented settings as install.sh', () => {
    expect(settings(ps1)).toEqual(settings(sh));
    expect(settings(ps1).length).toBeGreaterThan(15);
  });

  it('asks for the same Node.js as install.sh and package.json', () => {
    const shMin = /^MIN_NODE_MAJOR=(\d+)$/m.exec(sh)?.[1];
    const ps1Min = /^\$MinNodeMajor = (\d+)$/m.exec(ps1)?.[1];
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    expect(ps1Min).toBe(shMin);
    expect(pkg.engines.node).toBe(`>=${String(ps1Min)}`);
  });

  it('installs to %LOCALAPPDATA%\\budgie, onto the user PATH, and says what runs on Windows', () => {
    expect(ps1).toContain("[string]$Prefix = (Join-Path $env:LOCALAPPDATA 'budgie')");
    expect(ps1).toContain("$key.SetValue('Path'");
    expect(ps1).toContain('the agent needs Linux with containerd');
    // The CLI's only way to an agent is a unix socket (src/api/client.ts): no remote promise.
    expect(ps1).toContain('only through its local unix socket');
  });

  it('has balanced braces and parentheses outside its here-strings', () => {
    const code = ps1.replace(/@'\n[\s\S]*?\n'@/g, '').replace(/'[^'\n]*'|"[^"\n]*"/g, '');
    for (const [open, close] of [
      ['{', '}'],
      ['(', ')'],
    ] as const) {
      expect(code.split(open).length).toBe(code.split(close).length);
    }
  });
});
