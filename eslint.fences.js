// @ts-check
/**
 * The fences between Budgie's rooms (see README, Architecture), as ESLint import restrictions.
 * Kept apart from eslint.config.js so that a unit test can lint imports against them alone.
 * ESLint keeps only the last matching setting of a rule, so each group lists every fence that
 * holds for it.
 */

/**
 * An import of a top-level room of src/ from another room: its index ('../agent') or its files
 * ('../../agent/x'), never a file of the importer's own room that bears the name.
 */
const room = (...names) => `^(\\.\\./)+(${names.join('|')})(/|$)`;
const noCli = { regex: room('cli'), message: 'Nothing imports the CLI.' };
const noContainerdGen = {
  group: ['**/gen/containerd/**'],
  message: 'Only src/containerd may use generated containerd messages.',
};
const noPeerGen = {
  group: ['**/gen/budgie/peer/**'],
  message:
    'Generated peer messages stay at the edge: src/peer, peer services and clients (*-service.ts, *-client.ts) and wire translators (*-wire.ts).',
};
const noApiGen = {
  group: ['**/gen/budgie/v1/**'],
  message:
    'Generated budgie.v1 messages stay at the edge: src/api, src/cli, src/agent/services and wire translators (*-wire.ts).',
};
const noAgentFromCli = {
  regex: room('agent', 'containerd'),
  message: 'The CLI talks to the agent only through the API client.',
};
const noTools = {
  regex: room('tools'),
  message:
    'src/tools is tooling for tests, the demo and benchmarks: Budgie itself never imports it.',
};
const noContainerd = {
  regex: room('containerd'),
  message:
    "Only the agent's composition root (src/agent/index.ts) wires src/containerd; everything else uses the runtime interface (src/runtime).",
};
const noImages = {
  regex: room('images'),
  message: "src/containerd stores images; where their bytes come from is src/images' policy.",
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

/** Files at the peer edge: the transport, each peer service and client, and the translators. */
const PEER_EDGE = [
  'src/peer/**/*.ts',
  'src/**/*-service.ts',
  'src/**/*-client.ts',
  'src/**/*-wire.ts',
];
/** Files at the local API edge: its client and the agent's handlers. */
const API_EDGE = ['src/api/**/*.ts', 'src/agent/services/**/*.ts'];

module.exports = [
  {
    files: ['src/**/*.ts'],
    // main.ts is the composition root: the one place that wires the CLI to the agent.
    ignores: ['src/cli/**', 'src/containerd/**', 'src/main.ts', 'src/tools/**'],
    rules: restrict(noCli, noContainerdGen, noPeerGen, noApiGen, noTools, noContainerd),
  },
  // The composition root builds the containerd backend and hands it to the rooms.
  {
    files: ['src/agent/index.ts'],
    rules: restrict(noCli, noContainerdGen, noPeerGen, noApiGen, noTools),
  },
  { files: PEER_EDGE, rules: restrict(noCli, noContainerdGen, noTools, noContainerd) },
  // After the peer edge: src/api/cluster-client.ts is a local API client, not a peer one.
  { files: API_EDGE, rules: restrict(noCli, noContainerdGen, noPeerGen, noTools, noContainerd) },
  {
    files: ['src/containerd/**/*.ts'],
    rules: restrict(noCli, noPeerGen, noApiGen, noTools, noImages),
  },
  {
    files: ['src/tools/**/*.ts'],
    rules: restrict(noCli, noContainerdGen, noPeerGen, noApiGen, noContainerd),
  },
  // nest runs inside the CLI: the same fence holds for it (containerd only through the runtime
  // interface, which the composition root fills in).
  { files: ['src/cli/**/*.ts'], rules: restrict(noContainerdGen, noPeerGen, noAgentFromCli) },
  {
    files: ['src/nest/**/*.ts'],
    rules: restrict(noCli, noContainerdGen, noPeerGen, noAgentFromCli),
  },
];
