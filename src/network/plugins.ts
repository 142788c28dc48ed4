import * as t from 'io-ts';
import { isRight } from 'fp-ts/Either';
import { join } from 'node:path';
import { FailedPreconditionError, InternalError, messageOf, UnavailableError } from '../errors';
import {
  type CallContext,
  cniError,
  describeCall,
  crashError,
  decodeCniError,
  missingPluginError,
} from './cni-errors';
import { type NetworkList, pluginInput } from './config';
import type { NetworkHost, PluginCall, PluginExit } from './host';
import { parseJson } from './json';
import { decodeResult } from './result';

/** The spec versions Budgie speaks, most preferred first. */
const SPOKEN = ['1.0.0', '0.4.0'];

const VersionAnswer = t.type({ supportedVersions: t.array(t.string) });

/** Where a list is applied: the replica (CNI_CONTAINERID), its namespace and interface. */
export interface Target {
  replicaId: string;
  netnsPath: string;
  ifName: string;
}

/**
 * Runs CNI plugin binaries as the spec says: the command and target in CNI_* variables, the
 * network configuration on stdin, a result or an error as JSON on stdout. Lists run the way
 * libcni runs a conflist: each ADD gets the previous result, DEL runs in reverse with the cached one.
 */
export class PluginRunner {
  private readonly paths = new Map<string, Promise<string>>();

  constructor(
    private readonly host: NetworkHost,
    private readonly dirs: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  /** The newest spec version Budgie and every named plugin support. */
  async negotiateVersion(types: readonly string[]): Promise<string> {
    const supported = await Promise.all(types.map((type) => this.versions(type)));
    const common = SPOKEN.find((v) => supported.every((list) => list.includes(v)));
    if (common !== undefined) return common;
    throw new FailedPreconditionError(
      `the installed CNI plugins (${types.join(', ')}) support none of CNI ${SPOKEN.join(', ')}; upgrade containernetworking-plugins`,
    );
  }

  /** Runs ADD through the list; resolves with the last plugin's result, as the plugin wrote it. */
  async add(list: NetworkList, target: Target, signal?: AbortSignal): Promise<unknown> {
    let result: unknown;
    for (const plugin of list.plugins) {
      const stdout = await this.call(
        'ADD',
        plugin.type,
        pluginInput(list, plugin, result),
        target,
        signal,
      );
      result = parseJson(stdout);
      if (decodeResult(result) === undefined) {
        throw new InternalError(
          `CNI plugin ${plugin.type} (ADD) for replica ${target.replicaId} printed no CNI result`,
        );
      }
    }
    return result;
  }

  /** Runs DEL through the list in reverse, with the cached ADD result when there is one. */
  async del(list: NetworkList, target: Target, cached?: unknown): Promise<void> {
    for (const plugin of [...list.plugins].reverse()) {
      await this.call('DEL', plugin.type, pluginInput(list, plugin, cached), target);
    }
  }

  private async versions(type: string): Promise<string[]> {
    const stdin = JSON.stringify({ cniVersion: SPOKEN[0] });
    const stdout = await this.call('VERSION', type, stdin, undefined);
    const decoded = VersionAnswer.decode(parseJson(stdout));
    if (isRight(decoded)) return decoded.right.supportedVersions;
    throw new InternalError(`CNI plugin ${type} answered VERSION with no supportedVersions`);
  }

  private async call(
    command: string,
    type: string,
    stdin: string,
    target: Target | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    const path = await this.find(type);
    const env: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: this.dirs.join(':') };
    if (target !== undefined) {
      env['CNI_CONTAINERID'] = target.replicaId;
      env['CNI_NETNS'] = target.netnsPath;
      env['CNI_IFNAME'] = target.ifName;
    }
    const context: CallContext = { plugin: type, command, replicaId: target?.replicaId };
    const exit = await this.runWithin(path, { env, stdin }, context, signal);
    if (exit.exitCode === 0) return exit.stdout;
    const body = decodeCniError(exit.stdout);
    throw body === undefined
      ? crashError(context, exit.exitCode, exit.stderr)
      : cniError(context, body);
  }

  /** Runs the plugin, killing it when the caller aborts or it takes longer than the timeout. */
  private async runWithin(
    path: string,
    call: PluginCall,
    context: CallContext,
    signal: AbortSignal | undefined,
  ): Promise<PluginExit> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const either = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    try {
      const exit = await this.host.runPlugin(path, call, either);
      either.throwIfAborted();
      return exit;
    } catch (err) {
      signal?.throwIfAborted();
      if (timeout.aborted) {
        throw new UnavailableError(
          `${describeCall(context)} did not finish within ${this.timeoutMs / 1000}s and was killed`,
        );
      }
      throw new InternalError(`could not run CNI plugin ${path}: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  /** The first executable `type` in the plugin dirs (looked up once per type). */
  private find(type: string): Promise<string> {
    let found = this.paths.get(type);
    if (found === undefined) {
      found = this.lookup(type);
      found.catch(() => this.paths.delete(type)); // installed later: look again next time
      this.paths.set(type, found);
    }
    return found;
  }

  private async lookup(type: string): Promise<string> {
    for (const dir of this.dirs) {
      const path = join(dir, type);
      if (await this.host.isExecutable(path)) return path;
    }
    throw missingPluginError(type, this.dirs);
  }
}
