import type { RuntimeProbe } from '../runtime/probe';
import { ContainerdClient } from './client';

/** containerd's Version over a short-lived client: nest's check of the runtime. */
export const containerdProbe: RuntimeProbe = {
  async version(socket, timeoutMs) {
    // The namespace is irrelevant to Version; no call here creates anything.
    const client = ContainerdClient.connect({ socket, namespace: 'default' });
    try {
      return (await client.version({ timeoutMs })).version;
    } finally {
      client.close();
    }
  },
};
