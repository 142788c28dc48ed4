import { AgentClient, DEFAULT_SOCKET } from '../api/client';
import type { GlobalArgs } from './context';

/** Runs `work` with a client of the agent named by --socket, closing it afterwards. */
export async function withClient<T>(
  args: GlobalArgs,
  work: (client: AgentClient) => Promise<T>,
): Promise<T> {
  const client = new AgentClient(args.socket ?? DEFAULT_SOCKET);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}
