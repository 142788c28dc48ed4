import { quickStart } from '../../../src/nest/quickstart';
import type { Machine } from '../../../src/nest/workshop';
import { fakeMachine, fakeWorkshop, type FakeWorkshop } from '../../support/fakes/workshop';

interface Run {
  out: string;
  offers: string[];
}

async function run(
  workshop: FakeWorkshop,
  machine: Machine,
  answer: boolean,
  binDir?: string,
): Promise<Run> {
  let out = '';
  const offers: string[] = [];
  await quickStart(
    workshop,
    machine,
    { write: (t) => (out += t) },
    {
      offerService: (q) => {
        offers.push(q);
        return Promise.resolve(answer);
      },
      ...(binDir === undefined ? {} : { binDir }),
    },
  );
  return { out, offers };
}

describe('quick start', () => {
  it('as root on Linux: npm ci, build, link into /usr/local/bin, the service when wanted', async () => {
    const w = fakeWorkshop();
    const r = await run(w, fakeMachine(), true);
    expect(w.calls).toEqual([
      'installDependencies',
      'build',
      'linkCli /usr/local/bin',
      'installService',
    ]);
    expect(r.offers).toEqual(['Install the agent as a systemd service (install.sh)?']);
    expect(r.out).toContain('==> 3/4 linked /usr/local/bin/budgie -> /src/budgie/dist/main.js\n');
    expect(r.out).toContain('==> 4/4 installed the budgie-agent systemd unit (install.sh)\n');
    expect(r.out).toContain('systemctl start budgie-agent');
    expect(r.out).not.toContain('not on PATH');
  });

  it('leaves the service out when the offer is declined, and says how to add it', async () => {
    const w = fakeWorkshop();
    const r = await run(w, fakeMachine(), false);
    expect(w.calls).not.toContain('installService');
    expect(r.out).toContain('==> 4/4 no agent service (later: ./install.sh)\n');
    expect(r.out).toContain('budgie agent &');
  });

  it('as a user: links into ~/.local/bin, says when that is not on PATH, offers no service', async () => {
    const w = fakeWorkshop();
    const r = await run(w, fakeMachine({ isRoot: false, home: '/home/ann' }), true);
    expect(w.calls).toEqual(['installDependencies', 'build', 'linkCli /home/ann/.local/bin']);
    expect(r.offers).toEqual([]);
    expect(r.out).toContain('/home/ann/.local/bin is not on PATH');
    expect(r.out).toContain('installing it needs root (later: sudo ./install.sh)');
  });

  it('offers no service off Linux: the agent needs Linux', async () => {
    const w = fakeWorkshop();
    const r = await run(w, fakeMachine({ platform: 'darwin' }), true);
    expect(r.offers).toEqual([]);
    expect(r.out).toContain('the agent needs Linux with containerd');
  });

  it('links where it is told to', async () => {
    const w = fakeWorkshop();
    await run(w, fakeMachine(), false, '/opt/bin');
    expect(w.calls).toContain('linkCli /opt/bin');
  });

  it('stops at the first step that fails, with its error', async () => {
    const w = fakeWorkshop();
    w.failing.add('installDependencies');
    await expect(run(w, fakeMachine(), true)).rejects.toThrow(
      'installDependencies: exited with status 1',
    );
    expect(w.calls).toEqual(['installDependencies']);
  });
});
