import { NodeServiceService, type NodeServiceServer } from '../../gen/budgie/v1/node';
import type { Logger } from '../../log';
import type { ServiceBinding } from '../../rpc/handlers';
import { unary } from '../../rpc/handlers';

export interface NodeFacts {
  nodeName: string;
  budgieVersion: string;
  containerdNamespace: string;
  snapshotter: string;
  /** Asked each time: containerd may have been upgraded or restarted under the agent. */
  containerdVersion(signal: AbortSignal): Promise<string>;
}

export function nodeService(facts: NodeFacts, log: Logger): ServiceBinding {
  const implementation: NodeServiceServer = {
    getInfo: unary(log, 'GetInfo', async (_req, signal) => ({
      nodeName: facts.nodeName,
      budgieVersion: facts.budgieVersion,
      containerdVersion: await facts.containerdVersion(signal),
      containerdNamespace: facts.containerdNamespace,
      snapshotter: facts.snapshotter,
    })),
  };
  return { definition: NodeServiceService, implementation };
}
