import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError, InternalError, messageOf } from '../errors';
import { hasCode, writeFileAtomic, type FsOps } from '../fs';
import type { TokenVerifier } from './join-proof';

/** What a member keeps on disk, as PEM text. */
export interface StoredCluster {
  caCertPem: string;
  /** Only on nodes that can admit joiners (the node that ran init). */
  caKeyPem?: string;
  nodeKeyPem: string;
  nodeCertPem: string;
  /** Only with the CA key: the verifier of the current join token. */
  verifier?: TokenVerifier;
}

export type ClusterFs = FsOps & Pick<typeof fsp, 'rm'>;

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  nodeKey: 'node.key',
  nodeCert: 'node.crt',
  verifier: 'token.json',
} as const;
const SECRET_MODE = 0o600;
const PUBLIC_MODE = 0o644;

/**
 * `<state>/cluster/`: ca.crt, ca.key (init node only), node.key (0600), node.crt, token.json
 * (the token verifier, init node only). Each file is replaced atomically and node.crt is written
 * last: it marks the directory complete, so a crash half-way through init or join reads as "not a
 * member" and the next attempt overwrites the leftovers.
 */
export class ClusterStore {
  private readonly fs: ClusterFs;

  constructor(
    readonly dir: string,
    fs?: ClusterFs,
  ) {
    this.fs = fs ?? fsp;
  }

  async read(): Promise<StoredCluster | undefined> {
    const nodeCertPem = await this.readOptional(FILES.nodeCert);
    if (nodeCertPem === undefined) return undefined;
    const caCertPem = await this.readRequired(FILES.caCert);
    const nodeKeyPem = await this.readRequired(FILES.nodeKey);
    const caKeyPem = await this.readOptional(FILES.caKey);
    const verifierText = await this.readOptional(FILES.verifier);
    return {
      caCertPem,
      nodeKeyPem,
      nodeCertPem,
      ...(caKeyPem !== undefined && { caKeyPem }),
      ...(verifierText !== undefined && { verifier: this.decodeVerifier(verifierText) }),
    };
  }

  async write(stored: StoredCluster): Promise<void> {
    await this.guard('saving', async () => {
      await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      // A leftover node.crt from an earlier membership must not vouch for half-written files.
      await this.fs.rm(this.path(FILES.nodeCert), { force: true });
      await this.put(FILES.caCert, stored.caCertPem, PUBLIC_MODE);
      await this.putOrRemove(FILES.caKey, stored.caKeyPem, SECRET_MODE);
      await this.put(FILES.nodeKey, stored.nodeKeyPem, SECRET_MODE);
      const verifier = stored.verifier && `${JSON.stringify(stored.verifier, null, 2)}\n`;
      await this.putOrRemove(FILES.verifier, verifier, SECRET_MODE);
      await this.put(FILES.nodeCert, stored.nodeCertPem, PUBLIC_MODE);
    });
  }

  async writeVerifier(verifier: TokenVerifier): Promise<void> {
    await this.guard('saving the token verifier', async () => {
      await this.put(FILES.verifier, `${JSON.stringify(verifier, null, 2)}\n`, SECRET_MODE);
    });
  }

  /** Forgets the membership: every file, keys included. */
  async remove(): Promise<void> {
    await this.guard('removing', () => this.fs.rm(this.dir, { recursive: true, force: true }));
  }

  private path(file: string): string {
    return join(this.dir, file);
  }

  private async put(file: string, data: string, mode: number): Promise<void> {
    await writeFileAtomic(this.fs, this.path(file), data, mode);
  }

  private async putOrRemove(file: string, data: string | undefined, mode: number): Promise<void> {
    if (data === undefined) await this.fs.rm(this.path(file), { force: true });
    else await this.put(file, data, mode);
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new InternalError(`cluster state: ${what} in ${this.dir}: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  private async readOptional(file: string): Promise<string | undefined> {
    try {
      return await this.fs.readFile(this.path(file), 'utf8');
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return undefined;
      throw new InternalError(`cluster state: reading ${this.path(file)}: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  private async readRequired(file: string): Promise<string> {
    const text = await this.readOptional(file);
    if (text === undefined) throw this.damaged(`${file} is missing`);
    return text;
  }

  private decodeVerifier(text: string): TokenVerifier {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw this.damaged(`${FILES.verifier} is not JSON`);
    }
    if (
      typeof value === 'object' &&
      value !== null &&
      'tokenId' in value &&
      'publicKey' in value &&
      typeof value.tokenId === 'string' &&
      typeof value.publicKey === 'string'
    ) {
      const expires = 'expiresAtMs' in value ? value.expiresAtMs : undefined;
      if (expires !== undefined && !Number.isSafeInteger(expires)) {
        throw this.damaged(`${FILES.verifier}: expiresAtMs is not a time`);
      }
      return {
        tokenId: value.tokenId,
        publicKey: value.publicKey,
        ...(typeof expires === 'number' && { expiresAtMs: expires }),
      };
    }
    throw this.damaged(`${FILES.verifier}: expected {"tokenId", "publicKey"}`);
  }

  damaged(why: string): FailedPreconditionError {
    return new FailedPreconditionError(
      `cluster state in ${this.dir} is damaged (${why}); run 'budgie cluster leave' and join again`,
    );
  }
}
