/**
 * How often members ask each other for their replica listings on an idle cluster of BENCH_NODES
 * real agents (the cluster lab). Every agent runs with grpc-js's `server_call` trace, which
 * logs each call a server receives; the ListReplicas calls in a BENCH_SECONDS window, after the
 * cluster has settled, give the rate per member pair. With BENCH_BASELINE=path/to/dist/main.js
 * (an older build) the same cluster is measured with it too and the ratio printed. Needs root,
 * containerd, runc, the CNI plugins and a built CLI (`npm run build`). See bench/README.md.
 */
import { startClusterLab } from '../test/support/cluster-lab';
import { DEFAULT_HEARTBEAT, MAIN, pause } from './cluster-common';

const NODES = Number(process.env.BENCH_NODES ?? '3');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '20');
const SETTLE_MS = 5000;

/** ListReplicas calls every agent's peer server took in the window, per member pair and second. */
async function measure(main: string): Promise<number> {
  const lab = await startClusterLab({
    label: 'bfp',
    agents: NODES,
    hosts: NODES,
    subnet: '10.185',
    heartbeat: DEFAULT_HEARTBEAT,
    main,
  });
  try {
    await lab.form();
    await pause(SETTLE_MS);
    const count = (): number => {
      let n = 0;
      for (let i = 0; i < NODES; i++) {
        n +=
          lab.agent(i).output().split('/budgie.peer.v1.ReplicaService/ListReplicas start called')
            .length - 1;
      }
      return n;
    };
    const before = count();
    await pause(SECONDS * 1000);
    const calls = count() - before;
    return calls / (NODES * (NODES - 1)) / SECONDS;
  } finally {
    const failed = await lab.remove([]);
    if (failed.length > 0) console.error(`cleanup: ${failed.join('; ')}`);
  }
}

async function main(): Promise<void> {
  // Inherited by the agents the lab spawns: one trace line per call a server receives.
  process.env.GRPC_TRACE = 'server_call';
  process.env.GRPC_VERBOSITY = 'DEBUG';
  const rate = await measure(MAIN);
  console.log(
    `ListReplicas per member pair: ${rate.toFixed(2)}/s (${NODES} nodes, ${SECONDS} s idle)`,
  );
  const baseline = process.env.BENCH_BASELINE;
  if (baseline !== undefined) {
    const before = await measure(baseline);
    console.log(
      `baseline ${baseline}: ${before.toFixed(2)}/s; ratio ${(rate / before).toFixed(2)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
