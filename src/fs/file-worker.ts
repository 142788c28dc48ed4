import { parentPort } from 'node:worker_threads';
import type { WorkerReply, WorkerRequest } from './file-jobs';
import { asError, codeOf } from './errno';
import { runJob } from './file-work';

/** A FileJobs thread: runs each job it is sent, in order, and answers with its result. */
parentPort?.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const result = runJob(request.job);
    reply = { id: request.id, result };
  } catch (err) {
    const { message } = asError(err);
    const code = codeOf(err);
    reply = { id: request.id, error: code === undefined ? { message } : { message, code } };
  }
  // Files read are handed over, not copied.
  const transfer: ArrayBuffer[] = [];
  if (reply.result?.op === 'read') {
    for (const read of reply.result.reads) if (read.kind === 'file') transfer.push(read.buffer);
  }
  parentPort?.postMessage(reply, transfer);
});
