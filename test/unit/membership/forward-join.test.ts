import type { MembershipClient } from '../../../src/membership';
import {
  FailedPreconditionError,
  PermissionDeniedError,
  UnavailableError,
} from '../../../src/errors';
import type { JoinRequest, JoinResponse } from '../../../src/gen/budgie/peer/v1/peer';
import { silentLogger } from '../../../src/log';
import type { MemberView } from '../../../src/membership';
import { forwardJoin } from '../../../src/membership/forward-join';

const REQ: JoinRequest = {
  tokenId: 't',
  nonce: Buffer.alloc(32),
  csr: Buffer.alloc(1),
  proof: Buffer.alloc(64),
  nodeName: 'joiner',
  addresses: [],
};
const OK: JoinResponse = {
  nodeCertificate: Buffer.from('cert'),
  caCertificate: Buffer.from('ca'),
  members: [],
};
const member = (name: string, state: MemberView['state'] = 'alive'): MemberView => ({
  nodeId: name.repeat(64).slice(0, 64),
  name,
  address: `${name}:7447`,
  state,
  lastSeenMs: 0,
});

/** Members answering Admit as `answers` says; records who was asked. */
function dialer(answers: Record<string, Error | JoinResponse>) {
  const asked: string[] = [];
  const dial = (m: MemberView): Pick<MembershipClient, 'admit'> => ({
    admit: () => {
      asked.push(m.name);
      const answer = answers[m.name];
      return answer instanceof Error || answer === undefined
        ? Promise.reject(answer ?? new UnavailableError('down'))
        : Promise.resolve(answer);
    },
  });
  return { dial, asked };
}

const forward = (members: MemberView[], dial: (m: MemberView) => Pick<MembershipClient, 'admit'>) =>
  forwardJoin(members, dial, REQ, 1000, silentLogger());

describe('forwardJoin', () => {
  it('asks alive members in turn until the CA holder admits', async () => {
    const { dial, asked } = dialer({
      b: new FailedPreconditionError('not the holder'),
      c: new UnavailableError('timed out'),
      d: OK,
    });
    const members = [member('x', 'dead'), member('b'), member('c'), member('d'), member('e')];
    await expect(forward(members, dial)).resolves.toBe(OK);
    expect(asked).toEqual(['b', 'c', 'd']);
  });

  it('stops at a refused proof: the holder has spoken', async () => {
    const { dial, asked } = dialer({ b: new PermissionDeniedError('join: token refused'), c: OK });
    await expect(forward([member('b'), member('c')], dial)).rejects.toThrow(/token refused/);
    expect(asked).toEqual(['b']);
  });

  it('says so in one line when no member can admit', async () => {
    const { dial } = dialer({ b: new FailedPreconditionError('not the holder') });
    await expect(forward([member('b'), member('c', 'suspect')], dial)).rejects.toThrow(
      /^join: no member that holds the cluster CA key .* is reachable from this one/,
    );
  });
});
