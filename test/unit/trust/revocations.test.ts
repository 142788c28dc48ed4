import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/log';
import { LeftMembers } from '../../../src/membership/left-members';
import {
  checkLeave,
  MAX_REVOCATIONS,
  Revocations,
  signLeave,
  signRemoval,
  type LeaveProof,
} from '../../../src/trust';
import { createCa } from '../../../src/trust/ca';
import { clusterIdOf } from '../../../src/trust/ids';
import { createCsr, createNodeKey, signNodeCertificate } from '../../../src/trust/node-cert';

const NOW = Date.UTC(2025, 0, 1);

interface Node {
  nodeId: string;
  clusterId: string;
  caCertPem: string;
  nodeCertPem: string;
  nodeKeyPem: string;
}

let ca: Awaited<ReturnType<typeof createCa>>;
let other: Awaited<ReturnType<typeof createCa>>;
let a: Node;
let b: Node;
let self: Node;
let stranger: Node;

async function node(of: typeof ca, name: string): Promise<Node> {
  const nodeKeyPem = await createNodeKey();
  const csrDer = await createCsr(nodeKeyPem, name);
  const signed = await signNodeCertificate(of, { csrDer, nodeName: name, addresses: [], now: NOW });
  return {
    nodeId: signed.nodeId,
    clusterId: clusterIdOf(new X509Certificate(of.certPem).raw),
    caCertPem: of.certPem,
    nodeCertPem: signed.certPem,
    nodeKeyPem,
  };
}

beforeAll(async () => {
  [ca, other] = await Promise.all([createCa(NOW), createCa(NOW)]);
  [a, b, self, stranger] = await Promise.all([
    node(ca, 'a'),
    node(ca, 'b'),
    node(ca, 'self'),
    node(other, 'x'),
  ]);
});

const check = (proof: LeaveProof): string | undefined =>
  checkLeave(proof, new X509Certificate(ca.certPem), self.clusterId);

describe('leave proofs', () => {
  it("a node's own signed leave checks out", () => {
    expect(check(signLeave(a))).toBeUndefined();
  });

  it('a member cannot sign the leave of another, nor of a node it names', () => {
    const mine = signLeave(a);
    // a's certificate and signature, b's node id: what a hostile a would send to cut b off.
    expect(check({ ...mine, nodeId: b.nodeId })).toBe('its certificate is not the leaving node’s');
    // b's certificate with a's signature.
    const cert = new X509Certificate(b.nodeCertPem).raw;
    expect(
      check({ nodeId: b.nodeId, certificate: cert, signature: mine.signature, byCa: false }),
    ).toBe('the leaving node did not sign it');
  });

  it("a removal counts only with the CA's signature", () => {
    expect(check(signRemoval(ca.keyPem, self.clusterId, b.nodeId))).toBeUndefined();
    // A member signing a "removal" with its own key, or another cluster's CA.
    expect(check(signRemoval(a.nodeKeyPem, self.clusterId, b.nodeId))).toBe(
      "the cluster CA's key did not sign it",
    );
    expect(check(signRemoval(other.keyPem, self.clusterId, b.nodeId))).toBe(
      "the cluster CA's key did not sign it",
    );
    // A removal of one node is not a removal of another.
    expect(check({ ...signRemoval(ca.keyPem, self.clusterId, b.nodeId), nodeId: a.nodeId })).toBe(
      "the cluster CA's key did not sign it",
    );
    expect(check({ ...signRemoval(ca.keyPem, self.clusterId, b.nodeId), nodeId: 'x' })).toBe(
      'it names no node id',
    );
  });

  it("refuses another cluster's node, another cluster's statement, junk and oversized proofs", () => {
    expect(check(signLeave(stranger))).toBe("its certificate is not signed by this cluster's CA");
    expect(checkLeave(signLeave(a), new X509Certificate(ca.certPem), 'f'.repeat(64))).toBe(
      'the leaving node did not sign it',
    );
    expect(check({ ...signLeave(a), certificate: Buffer.from('junk') })).toBe(
      'its certificate does not parse',
    );
    expect(check({ ...signLeave(a), signature: Buffer.alloc(9000) })).toMatch(
      /bytes, more than a proof has$/,
    );
  });
});

describe('Revocations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-revoked-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps checked leaves across a reopen, each once, never this node itself', async () => {
    const { revocations: r } = await Revocations.open(dir, check);
    expect(r.list()).toEqual([]);
    const added = await r.add(
      [signLeave(b), signLeave(a), signLeave(b), signLeave(self)],
      self.nodeId,
    );
    expect(added).toEqual({ added: [b.nodeId, a.nodeId], refused: [] });
    expect(r.has(a.nodeId) && r.has(b.nodeId) && !r.has(self.nodeId)).toBe(true);
    const { revocations: again, dropped } = await Revocations.open(dir, check);
    expect(dropped).toEqual([]);
    expect(again.list().map((p) => p.nodeId)).toEqual([a.nodeId, b.nodeId].sort());
    expect(check(again.list()[0]!)).toBeUndefined();
  });

  it('refuses a forged leave and says why', async () => {
    const { revocations: r } = await Revocations.open(dir, check);
    const forged = { ...signLeave(a), nodeId: b.nodeId };
    expect(await r.add([forged], self.nodeId)).toEqual({
      added: [],
      refused: [{ nodeId: b.nodeId, why: 'its certificate is not the leaving node’s' }],
    });
    expect(r.has(b.nodeId)).toBe(false);
  });

  it('drops stored entries that are not signed leaves (a list of bare node ids from before)', async () => {
    await writeFile(join(dir, 'revoked.json'), JSON.stringify([a.nodeId, 42, { nodeId: 'x' }]));
    const { revocations, dropped } = await Revocations.open(dir, check);
    expect(revocations.list()).toEqual([]);
    expect(dropped.map((d) => d.nodeId)).toEqual([a.nodeId, '?', '?']);
  });

  it(`holds ${MAX_REVOCATIONS} at most`, async () => {
    const proof = signLeave(a);
    const many = Array.from({ length: MAX_REVOCATIONS }, (_, i) => ({
      ...proof,
      nodeId: i.toString(16).padStart(64, '0'),
    }));
    const { revocations: r } = await Revocations.open(dir, () => undefined);
    await r.add(many, self.nodeId);
    const { added, refused } = await r.add([proof], self.nodeId);
    expect(added).toEqual([]);
    expect(refused).toEqual([
      { nodeId: a.nodeId, why: `the list is full (${MAX_REVOCATIONS} members that left)` },
    ]);
  });

  it('keeps the newest list when adds overlap', async () => {
    const { revocations: r } = await Revocations.open(dir, check);
    await Promise.all([r.add([signLeave(a)], self.nodeId), r.add([signLeave(b)], self.nodeId)]);
    const stored = JSON.parse(await readFile(join(dir, 'revoked.json'), 'utf8')) as unknown[];
    expect(stored).toHaveLength(2);
  });
});

describe('LeftMembers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-left-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("adopts a member's checked leave, refuses and logs a forged one once, and takes a leave only from the leaver", async () => {
    const log = silentLogger();
    const warnings: string[] = [];
    jest.spyOn(log, 'warn').mockImplementation(((message: string) => {
      warnings.push(message);
      return log;
    }) as typeof log.warn);
    const gone: string[] = [];
    const left = await LeftMembers.open(dir, self, log, (id) => gone.push(id));
    const forged = { ...signLeave(a), nodeId: b.nodeId };
    // What a hostile member's Hello answer says, twice (every heartbeat).
    await left.add([forged, signLeave(a)], a.nodeId);
    await left.add([forged], a.nodeId);
    expect(gone).toEqual([a.nodeId]);
    expect(left.has(b.nodeId)).toBe(false);
    expect(warnings).toEqual(['refused a revocation a member passed on: not a signed leave']);
    // Leave: b's own call with b's proof counts; a proof of someone else's does not.
    await expect(left.onLeave(b.nodeId, signLeave(a))).rejects.toThrow(
      /a member that leaves signs its own leave/,
    );
    await expect(left.onLeave(b.nodeId, undefined)).rejects.toThrow(/signs its own leave/);
    await left.onLeave(b.nodeId, signLeave(b));
    expect(gone).toEqual([a.nodeId, b.nodeId]);
    expect(
      left
        .revoked()
        .map((p) => p.nodeId)
        .sort(),
    ).toEqual([a.nodeId, b.nodeId].sort());
  });
});
