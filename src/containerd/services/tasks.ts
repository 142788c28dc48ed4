import {
  CreateTaskRequest,
  ExecProcessRequest,
  TasksService,
  type DeleteResponse,
  type WaitResponse,
} from '../../gen/containerd/services/tasks/v1/tasks';
import type { Process, ProcessInfo } from '../../gen/containerd/types/task/task';
import type { CallOpts, ContainerdConnection } from '../connection';
import { required } from '../connection';

export type CreateTaskInit = Parameters<typeof CreateTaskRequest.fromPartial>[0];
export type ExecInit = Parameters<typeof ExecProcessRequest.fromPartial>[0];

/** Creating a task starts a shim and mounts the rootfs: give it longer than a metadata call. */
const CREATE_TIMEOUT_MS = 60_000;

/** The running side of containers: tasks (init processes) and exec'd processes. */
export class TasksApi {
  constructor(private readonly conn: ContainerdConnection) {}

  /** Creates the task (not yet started); returns its pid. */
  async create(request: CreateTaskInit, opts: CallOpts = {}): Promise<number> {
    const timeoutMs = opts.timeoutMs ?? CREATE_TIMEOUT_MS;
    const res = await this.conn.unary(TasksService.create, CreateTaskRequest.fromPartial(request), {
      ...opts,
      timeoutMs,
    });
    return res.pid;
  }

  /** Starts the task (execId empty) or an exec'd process; returns its pid. */
  async start(containerId: string, execId = '', opts?: CallOpts): Promise<number> {
    const res = await this.conn.unary(TasksService.start, { containerId, execId }, opts);
    return res.pid;
  }

  /** Deletes a stopped task, releasing its shim and rootfs mounts. */
  async delete(containerId: string, opts?: CallOpts): Promise<DeleteResponse> {
    return this.conn.unary(TasksService.delete, { containerId }, opts);
  }

  async deleteProcess(
    containerId: string,
    execId: string,
    opts?: CallOpts,
  ): Promise<DeleteResponse> {
    return this.conn.unary(TasksService.deleteProcess, { containerId, execId }, opts);
  }

  async get(containerId: string, execId = '', opts?: CallOpts): Promise<Process> {
    const method = TasksService.get;
    const res = await this.conn.unary(method, { containerId, execId }, opts);
    return required(res.process, method.path, 'process');
  }

  async list(filter = '', opts?: CallOpts): Promise<Process[]> {
    const res = await this.conn.unary(TasksService.list, { filter }, opts);
    return res.tasks;
  }

  /** `all` signals every process in the container, not only its init. */
  async kill(
    containerId: string,
    signal: number,
    options: { execId?: string; all?: boolean } & CallOpts = {},
  ): Promise<void> {
    const request = {
      containerId,
      signal,
      execId: options.execId ?? '',
      all: options.all ?? false,
    };
    await this.conn.unary(TasksService.kill, request, options);
  }

  async exec(request: ExecInit, opts?: CallOpts): Promise<void> {
    await this.conn.unary(TasksService.exec, ExecProcessRequest.fromPartial(request), opts);
  }

  async listPids(containerId: string, opts?: CallOpts): Promise<ProcessInfo[]> {
    const res = await this.conn.unary(TasksService.listPids, { containerId }, opts);
    return res.processes;
  }

  /** Resolves when the process exits; no deadline unless `timeoutMs` sets one. */
  async wait(containerId: string, execId = '', opts: CallOpts = {}): Promise<WaitResponse> {
    const timeoutMs = opts.timeoutMs ?? Infinity;
    return this.conn.unary(TasksService.wait, { containerId, execId }, { ...opts, timeoutMs });
  }
}
