import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterIdentity, parseToken } from '../../../src/trust';
import { sha256 } from '../../../src/trust/ids';
import { createCa } from '../../../src/trust/ca';
import { ConflictError, FailedPreconditionError, InvalidInputError } from '../../../src/errors';

describe('ClusterIdentity', () => {
  let root: string;
  let stateDir: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'budgie-cluster-id-'));
    stateDir = join(root, 'state');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const modeOf = async (file: string) => (await stat(join(stateDir, 'cluster', file))).mode & 0o777;

  it('is in no cluster until init', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    await expect(cluster.load()).resolves.toBeUndefined();
    expect(() => cluster.current()).toThrow(FailedPreconditionError);
    await expect(cluster.token()).rejects.toThrow(/not in a cluster; run 'budgie cluster init'/);
  });

  it('init creates the CA and this node, stores them with safe modes, and returns a token', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    const { identity, token } = await cluster.init({
      nodeName: 'first',
      addresses: ['192.168.1.20'],
    });
    expect(identity).toMatchObject({ nodeName: 'first', addresses: ['192.168.1.20'] });
    expect(identity.signer).toBeDefined();
    expect((await readdir(join(stateDir, 'cluster'))).sort()).toEqual([
      'ca.crt',
      'ca.key',
      'node.crt',
      'node.key',
      'token.json',
    ]);
    expect(await modeOf('ca.key')).toBe(0o600);
    expect(await modeOf('node.key')).toBe(0o600);
    expect(await modeOf('token.json')).toBe(0o600);
    expect((await stat(join(stateDir, 'cluster'))).mode & 0o777).toBe(0o700);

    // The token names the CA, whose hash is also the cluster id; the secret is not on disk.
    const parsed = parseToken(token);
    expect(parsed.caFingerprint.toString('hex')).toBe(identity.clusterId);
    const verifier = await readFile(join(stateDir, 'cluster', 'token.json'), 'utf8');
    expect(verifier).toContain(parsed.id);
    for (const file of ['token.json', 'ca.crt', 'node.crt', 'node.key']) {
      const text = await readFile(join(stateDir, 'cluster', file));
      expect(text.includes(parsed.secret)).toBe(false);
      expect(text.toString().includes(token.split('.')[3]!)).toBe(false);
    }
  });

  it('loads the same identity after a restart and prints the same token again', async () => {
    const first = new ClusterIdentity({ stateDir });
    const { identity, token } = await first.init({ nodeName: 'first' });
    const again = new ClusterIdentity({ stateDir });
    await expect(again.load()).resolves.toEqual(identity);
    await expect(again.token()).resolves.toEqual({ token });
  });

  it('rotation replaces the token for good', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    const { token } = await cluster.init({ nodeName: 'first' });
    const { token: rotated } = await cluster.token({ rotate: true });
    expect(parseToken(rotated).id).not.toBe(parseToken(token).id);
    await expect(new ClusterIdentity({ stateDir }).token()).resolves.toEqual({ token: rotated });
  });

  it('refuses a second init, and bad node facts, naming the field', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    await expect(cluster.init({ nodeName: 'no spaces' })).rejects.toThrow(InvalidInputError);
    await expect(cluster.init({ nodeName: 'n', addresses: ['host.lan'] })).rejects.toThrow(
      'addresses[0]: expected an IP address, got "host.lan"',
    );
    await cluster.init({ nodeName: 'first' });
    await expect(cluster.init({ nodeName: 'first' })).rejects.toThrow(ConflictError);
  });

  it('refuses to join while a member, before dialling anything', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    const { token } = await cluster.init({ nodeName: 'first' });
    await expect(cluster.join(token, '127.0.0.1:1', { nodeName: 'first' })).rejects.toThrow(
      /already in cluster .*budgie cluster leave/,
    );
    await expect(cluster.join(token, 'nowhere', { nodeName: 'first' })).rejects.toThrow(
      /^--peer "nowhere": the port is missing \(expected HOST:PORT/,
    );
    await expect(cluster.join('nonsense', '127.0.0.1:1', { nodeName: 'x' })).rejects.toThrow(
      /^token: expected BGT1/,
    );
  });

  it('leave forgets every file; leaving twice is fine', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    await cluster.init({ nodeName: 'first' });
    await cluster.leave();
    await cluster.leave();
    await expect(stat(join(stateDir, 'cluster'))).rejects.toThrow(/ENOENT/);
    await expect(cluster.load()).resolves.toBeUndefined();
  });

  it('says the state is damaged when files do not belong together', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    await cluster.init({ nodeName: 'first' });
    // Another CA's certificate in place of ours: node.crt no longer chains to ca.crt.
    await writeFile(join(stateDir, 'cluster', 'ca.crt'), (await createCa(Date.now())).certPem);
    await expect(new ClusterIdentity({ stateDir }).load()).rejects.toThrow(
      /cluster state in .* is damaged \(node.crt is not signed by ca.crt\); run 'budgie cluster leave'/,
    );
  });

  it('reads a half-written directory (no node.crt) as no membership', async () => {
    const cluster = new ClusterIdentity({ stateDir });
    await cluster.init({ nodeName: 'first' });
    await rm(join(stateDir, 'cluster', 'node.crt'));
    await expect(new ClusterIdentity({ stateDir }).load()).resolves.toBeUndefined();
    await expect(cluster.init({ nodeName: 'again' })).resolves.toBeDefined();
  });

  it('uses the CA fingerprint as the cluster id', async () => {
    const { identity } = await new ClusterIdentity({ stateDir }).init({ nodeName: 'first' });
    const der = Buffer.from(identity.caCertPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    expect(sha256(der).toString('hex')).toBe(identity.clusterId);
  });
});
