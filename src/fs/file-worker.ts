import { parentPort } from 'node:worker_threads';
import type { WorkerReply, WorkerRequest } from './file-jobs';
import { runJob } from './file-work';

/** A FileJobs thread: runs each job it is sent, in order, and answers with its result. */
parentPort?.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const result = runJob(request.job);
    reply = { id: request.id, result };
  } catch (err) {
    const { message, code } = describe(err);
    reply = { id: request.id, error: { message, code } };
  }
  // Files read are handed over, not copied.
  const transfer: ArrayBuffer[] = [];
  if (reply.result?.op === 'read') {
    for (const read of reply.result.reads) if (read.kind === 'file') transfer.push(read.buffer);
  }
  parentPort?.postMessage(reply, transfer);
});

function describe(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) {
    const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    return { message: err.message, code };
  }
  return { message: String(err) };
}
