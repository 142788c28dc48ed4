import { Server, type sendUnaryData } from '@grpc/grpc-js';
import { toStatus } from '../../src/rpc/status';
import type { BudgieError } from '../../src/errors';
import {
  ClusterServiceService,
  type ClusterNode,
  type ClusterServiceServer,
  type InitResponse,
  type JoinRequest,
  type JoinResponse,
} from '../../src/gen/budgie/v1/cluster';
import { listenOnUnixSocket, type UnixServer } from './unix-server';

type Method = 'init' | 'token' | 'join' | 'nodes' | 'leave' | 'remove';

/**
 * A stub agent for `budgie cluster` tests: serves budgie.v1 ClusterService on a unix socket in a
 * temp dir, records requests, answers with its fields, and fails a method with a Budgie error (as
 * the real server would map it) when told to.
 */
export class FakeClusterService {
  readonly calls: Method[] = [];
  readonly tokenRequests: { rotate: boolean }[] = [];
  readonly leaveRequests: { force: boolean }[] = [];
  readonly removeRequests: { node: string }[] = [];
  readonly joinRequests: JoinRequest[] = [];
  initResponse: InitResponse = {
    token: 'BGT1.token',
    clusterId: 'c'.repeat(64),
    nodeId: 'a'.repeat(64),
    address: '10.0.0.1:7447',
  };
  token = 'BGT1.token';
  tokenExpiresMs = 0;
  joinResponse: JoinResponse = { clusterId: 'c'.repeat(64), nodeId: 'b'.repeat(64), peer: '' };
  nodes: ClusterNode[] = [];
  readonly failures: Partial<Record<Method, BudgieError>> = {};

  private listening: UnixServer | undefined;

  get socket(): string {
    if (this.listening === undefined) throw new Error('not started');
    return this.listening.socket;
  }

  static async start(): Promise<FakeClusterService> {
    const server = new Server();
    const fake = new FakeClusterService();
    server.addService(ClusterServiceService, fake.service());
    fake.listening = await listenOnUnixSocket(server, 'budgie-fake-cluster-');
    return fake;
  }

  async stop(): Promise<void> {
    await this.listening?.stop();
  }

  private service(): ClusterServiceServer {
    return {
      init: (_call, done) => {
        this.answer('init', done, () => this.initResponse);
      },
      token: (call, done) => {
        this.tokenRequests.push(call.request);
        this.answer('token', done, () => ({
          token: this.token,
          expiresUnixMs: this.tokenExpiresMs,
        }));
      },
      join: (call, done) => {
        this.joinRequests.push(call.request);
        this.answer('join', done, () => ({
          ...this.joinResponse,
          peer: call.request.peer || '10.0.0.1:7447',
        }));
      },
      nodes: (_call, done) => {
        this.answer('nodes', done, () => ({ clusterId: 'c'.repeat(64), nodes: this.nodes }));
      },
      leave: (call, done) => {
        this.leaveRequests.push(call.request);
        this.answer('leave', done, () => ({ membersTold: 2 }));
      },
      remove: (call, done) => {
        this.removeRequests.push(call.request);
        this.answer('remove', done, () => ({ nodeId: 'd'.repeat(64) }));
      },
    };
  }

  private answer<Res>(method: Method, done: sendUnaryData<Res>, value: () => Res): void {
    this.calls.push(method);
    const failure = this.failures[method];
    if (failure) done(toStatus(failure));
    else done(null, value());
  }
}
