import { ESLint, type Linter } from 'eslint';
import { parser } from 'typescript-eslint';

// The project's fences alone (eslint.fences.js), without the type-aware rules: fast, and about
// nothing but which room may import which.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fences = require('../../eslint.fences') as Linter.Config[];

const eslint = new ESLint({
  cwd: `${__dirname}/../..`,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser } }, ...fences],
});

/** The fence messages an import of `from` gets in the file at `path`. */
async function fenced(path: string, from: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import { x } from '${from}';\nexport { x };\n`, {
    filePath: path,
  });
  return (result?.messages ?? []).map((m) => m.message);
}

describe('lint fences', () => {
  it('keeps generated peer messages at the peer edge', async () => {
    const peerGen = '../gen/budgie/peer/v1/peer';
    expect(await fenced('src/fleet/fleet.ts', peerGen)).toEqual([
      expect.stringMatching(/Generated peer messages stay at the edge/),
    ]);
    expect(await fenced('src/placement/keeper.ts', peerGen)).toHaveLength(1);
    expect(await fenced('src/agent/index.ts', peerGen)).toHaveLength(1);
    expect(await fenced('src/api/cluster-client.ts', peerGen)).toHaveLength(1);
    for (const edge of [
      'src/peer/server.ts',
      'src/fleet/replica-client.ts',
      'src/fleet/replica-service.ts',
      'src/sync/sync-wire.ts',
    ]) {
      expect(await fenced(edge, peerGen)).toEqual([]);
    }
  });

  it('keeps generated budgie.v1 messages at the local API edge', async () => {
    const apiGen = '../gen/budgie/v1/apps';
    expect(await fenced('src/orchestrator/orchestrator.ts', apiGen)).toEqual([
      expect.stringMatching(/Generated budgie.v1 messages stay at the edge/),
    ]);
    expect(await fenced('src/balancing/remote-backends.ts', apiGen)).toHaveLength(1);
    expect(await fenced('src/containerd/image-store.ts', apiGen)).toHaveLength(1);
    for (const edge of ['src/api/client.ts', 'src/agent/services/apps.ts', 'src/cli/replicas.ts']) {
      expect(await fenced(edge, apiGen)).toEqual([]);
    }
  });

  it('keeps containerd messages in src/containerd, and the CLI away from the agent', async () => {
    expect(await fenced('src/fleet/fleet.ts', '../gen/containerd/types/mount')).toHaveLength(1);
    expect(await fenced('src/containerd/api.ts', '../gen/containerd/types/mount')).toEqual([]);
    const agentOnly = [expect.stringMatching(/The CLI talks to the agent only through the API/)];
    expect(await fenced('src/cli/index.ts', '../agent')).toEqual(agentOnly);
    expect(await fenced('src/cli/commands/run.ts', '../../agent/index')).toEqual(agentOnly);
    expect(await fenced('src/cli/commands/run.ts', '../../containerd')).toEqual(agentOnly);
    expect(await fenced('src/nest/host-probes.ts', '../containerd/client')).toEqual(agentOnly);
    // The CLI's own `agent` command is not the agent.
    expect(await fenced('src/cli/index.ts', './commands/agent')).toEqual([]);
    expect(await fenced('src/images/cluster-image-store.ts', '../containerd/image-store')).toEqual([
      expect.stringMatching(/uses the runtime interface/),
    ]);
    expect(await fenced('src/orchestrator/orchestrator.ts', '../containerd')).toHaveLength(1);
    expect(await fenced('src/agent/index.ts', '../containerd')).toEqual([]);
    expect(await fenced('src/containerd/image-store.ts', '../images/layer-spread')).toEqual([
      expect.stringMatching(/src\/images' policy/),
    ]);
    expect(await fenced('src/orchestrator/orchestrator.ts', '../tools/imagebuild/image')).toEqual([
      expect.stringMatching(/src\/tools is tooling/),
    ]);
    expect(await fenced('src/tools/imagebuild/main.ts', '../../oci/spec')).toEqual([]);
    expect(await fenced('src/fleet/fleet.ts', '../cli/index')).toEqual([
      expect.stringMatching(/Nothing imports the CLI/),
    ]);
  });
});
