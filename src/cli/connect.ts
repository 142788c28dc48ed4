import type { AgentClient } from '../api/client';
import type { GlobalArgs } from './context';

/**
 * Runs `work` with a client of the agent named by --socket, closing it afterwards. The client
 * (gRPC and the generated API) is loaded here, on first use, so that commands that never reach
 * the agent (`--help`, `validate`, `completion`) start without it.
 */
export async function withClient<T>(
  args: GlobalArgs,
  work: (client: AgentClient) => Promise<T>,
): Promise<T> {
  const { AgentClient: Client, DEFAULT_SOCKET } = await import('../api/client');
  const client = new Client(args.socket ?? DEFAULT_SOCKET);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}
