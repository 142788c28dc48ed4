import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError, messageOf } from '../errors';
import { hasCode, writeFileAtomic, type FsOps } from '../fs';
import type { LeaveProof } from './leave-proof';

const FILE = 'revoked.json';
/**
 * Members that left, at most: a cluster of a few machines on a LAN sees far fewer in its life,
 * and a bound keeps a flood (of real but replayed proofs) from growing the file and every Hello
 * answer without end.
 */
export const MAX_REVOCATIONS = 1000;

/** Why a proof is not a leave of this cluster's member, or undefined (see checkLeave). */
export type CheckLeave = (proof: LeaveProof) => string | undefined;

interface StoredProof {
  nodeId: string;
  certificate: string;
  signature: string;
  byCa?: boolean;
}

/** What an add or an open refused, and why. */
export interface Refused {
  nodeId: string;
  why: string;
}

/**
 * The members that left the cluster, each with its own signed word for it (a LeaveProof), whose
 * certificates this node no longer trusts. Only a proof that `check` accepts is kept, so the list
 * is passed on to other members as it came: each of them checks it again. Kept in the cluster
 * directory (`revoked.json`), so it goes when this node itself leaves; a certificate cannot be
 * un-issued, so the list is how a left node loses its access.
 */
export class Revocations {
  private constructor(
    private readonly path: string,
    private readonly fs: FsOps,
    private readonly check: CheckLeave,
    private readonly proofs: Map<string, LeaveProof>,
  ) {}

  /** Writes one after another, so an older list never lands after a newer one. */
  private writing: Promise<void> = Promise.resolve();

  /**
   * Reads the list in `clusterDir` (a missing file is an empty list); entries that are not
   * proofs `check` accepts (a list of bare node ids from before proofs, a hand edit) are dropped
   * and returned, for the caller to log.
   */
  static async open(
    clusterDir: string,
    check: CheckLeave,
    fs: FsOps = fsp,
  ): Promise<{ revocations: Revocations; dropped: Refused[] }> {
    const path = join(clusterDir, FILE);
    const proofs = new Map<string, LeaveProof>();
    const dropped: Refused[] = [];
    let entries: unknown[] = [];
    try {
      const value: unknown = JSON.parse(await fs.readFile(path, 'utf8'));
      if (Array.isArray(value)) entries = value;
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) {
        throw new InternalError(`cluster state: reading ${path}: ${messageOf(err)}`, {
          cause: err,
        });
      }
    }
    for (const entry of entries.slice(0, MAX_REVOCATIONS)) {
      const proof = proofOf(entry);
      const why = proof === undefined ? 'not a signed leave' : check(proof);
      if (proof !== undefined && why === undefined) proofs.set(proof.nodeId, proof);
      else dropped.push({ nodeId: nodeIdIn(entry), why: why ?? 'not a signed leave' });
    }
    return { revocations: new Revocations(path, fs, check, proofs), dropped };
  }

  has(nodeId: string): boolean {
    return this.proofs.has(nodeId);
  }

  /** The proofs, by node id. */
  list(): LeaveProof[] {
    return [...this.proofs.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  /**
   * Adds the proofs `check` accepts, but never one for `except` (this node) and none past
   * MAX_REVOCATIONS; returns the node ids new here, and what was refused. A proof of a node
   * already listed is not checked again.
   */
  async add(
    proofs: readonly LeaveProof[],
    except: string,
  ): Promise<{ added: string[]; refused: Refused[] }> {
    const added: string[] = [];
    const refused: Refused[] = [];
    for (const proof of proofs) {
      if (proof.nodeId === except || this.proofs.has(proof.nodeId)) continue;
      const why =
        this.proofs.size >= MAX_REVOCATIONS
          ? `the list is full (${MAX_REVOCATIONS} members that left)`
          : this.check(proof);
      if (why !== undefined) {
        refused.push({ nodeId: proof.nodeId.slice(0, 64), why });
        continue;
      }
      this.proofs.set(proof.nodeId, proof);
      added.push(proof.nodeId);
    }
    if (added.length > 0) {
      const text = `${JSON.stringify(this.list().map(storedOf), null, 2)}\n`;
      const write = this.writing.then(() => writeFileAtomic(this.fs, this.path, text, 0o644));
      this.writing = write.catch(() => undefined);
      await write;
    }
    return { added, refused };
  }
}

function storedOf(proof: LeaveProof): StoredProof {
  return {
    nodeId: proof.nodeId,
    certificate: proof.certificate.toString('base64'),
    signature: proof.signature.toString('base64'),
    ...(proof.byCa && { byCa: true }),
  };
}

function proofOf(entry: unknown): LeaveProof | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { nodeId, certificate, signature, byCa } = entry as Partial<
    Record<keyof StoredProof, unknown>
  >;
  if (typeof nodeId !== 'string' || typeof certificate !== 'string') return undefined;
  if (typeof signature !== 'string') return undefined;
  return {
    nodeId,
    certificate: Buffer.from(certificate, 'base64'),
    signature: Buffer.from(signature, 'base64'),
    byCa: byCa === true,
  };
}

function nodeIdIn(entry: unknown): string {
  if (typeof entry === 'string') return entry.slice(0, 64);
  const proof = proofOf(entry);
  return proof?.nodeId.slice(0, 64) ?? '?';
}
