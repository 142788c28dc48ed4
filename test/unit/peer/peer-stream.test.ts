import { credentials, Metadata, Server, type ServerWritableStream } from '@grpc/grpc-js';
import { UnavailableError } from '../../../src/errors';
import {
  BlobServiceClient,
  BlobServiceService,
  type BlobServiceServer,
  type ReadBlobRequest,
  type ReadBlobResponse,
} from '../../../src/gen/budgie/peer/v1/peer';
import { peerStream } from '../../../src/peer';
import { listenOnUnixSocket, type UnixServer } from '../../support/unix-server';

/**
 * peerStream over a real gRPC stream (a unix socket): a member that sends some bytes and then
 * nothing more is a stalled stream, failed within the stall time; a slow reader here is not.
 */
let listening: UnixServer;
let client: BlobServiceClient;
/** How many chunks the server sends before it goes silent (Infinity: it ends after 5). */
let chunksBeforeSilence = 1;

beforeAll(async () => {
  const server = new Server();
  const implementation: BlobServiceServer = {
    read: (call: ServerWritableStream<ReadBlobRequest, ReadBlobResponse>) => {
      const sent = Math.min(chunksBeforeSilence, 5);
      for (let i = 0; i < sent; i++) call.write({ data: Buffer.from(`chunk ${i}`) });
      if (chunksBeforeSilence === Infinity) call.end();
      // Otherwise: nothing more, never an end (a frozen member).
    },
  };
  server.addService(BlobServiceService, implementation);
  listening = await listenOnUnixSocket(server, 'budgie-peer-stream-');
  client = new BlobServiceClient(`unix://${listening.socket}`, credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await listening.stop();
});

async function read(stallMs: number, pauseMs = 0): Promise<string[]> {
  const got: string[] = [];
  const call = client.read({ digest: 'sha256:x', offset: 0 }, new Metadata());
  for await (const res of peerStream('member-b', call, undefined, stallMs)) {
    got.push(res.data.toString());
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  return got;
}

it('fails a stream that goes silent within the stall time, after what did come', async () => {
  chunksBeforeSilence = 1;
  const got: string[] = [];
  const started = Date.now();
  const failure = await (async () => {
    const call = client.read({ digest: 'sha256:x', offset: 0 }, new Metadata());
    for await (const res of peerStream('member-b', call, undefined, 300)) {
      got.push(res.data.toString());
    }
  })().catch((err: unknown) => err);
  expect(got).toEqual(['chunk 0']);
  expect(failure).toBeInstanceOf(UnavailableError);
  expect((failure as Error).message).toBe(
    'peer member-b: the stream stalled: nothing came for 0.3 s',
  );
  expect(Date.now() - started).toBeLessThan(3000);
});

it('does not count the time the reader spends on a message', async () => {
  chunksBeforeSilence = Infinity;
  expect(await read(200, 400)).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'chunk 3', 'chunk 4']);
});
