import * as t from 'io-ts';
import { isRight } from 'fp-ts/Either';
import { InternalError } from '../errors';
import { parseIpv4 } from './cidr';
import type { ReplicaNetwork } from './types';

/** The parts of a CNI result (0.4.0 and 1.0.0 share them) that Budgie reads. */
const CniResult = t.intersection([
  t.type({ cniVersion: t.string }),
  t.partial({
    interfaces: t.array(
      t.intersection([t.type({ name: t.string }), t.partial({ sandbox: t.string, mac: t.string })]),
    ),
    ips: t.array(
      t.intersection([
        t.type({ address: t.string }),
        t.partial({ gateway: t.string, interface: t.number }),
      ]),
    ),
  }),
]);
export type CniResult = t.TypeOf<typeof CniResult>;

/** The CNI result in a plugin's parsed output; undefined when it is not one. */
export function decodeResult(json: unknown): CniResult | undefined {
  const decoded = CniResult.decode(json);
  return isRight(decoded) ? decoded.right : undefined;
}

/** Where the replica ended up: the IPv4 address of `ifName` inside the namespace. */
export interface Placement {
  replicaId: string;
  netnsPath: string;
  ifName: string;
  bridge: string;
}

export function replicaNetworkFrom(result: CniResult, at: Placement): ReplicaNetwork {
  const interfaces = result.interfaces ?? [];
  const ours = interfaces.findIndex((i) => i.name === at.ifName && i.sandbox !== undefined);
  const ipv4 = (result.ips ?? []).filter(
    (ip) => parseIpv4(ip.address.split('/')[0] ?? '') !== undefined,
  );
  const chosen = ipv4.find((ip) => ip.interface === ours) ?? ipv4[0];
  const [ip, prefix] = chosen?.address.split('/') ?? [];
  if (chosen === undefined || ip === undefined || prefix === undefined) {
    throw new InternalError(
      `CNI result for replica ${at.replicaId} has no IPv4 address on ${at.ifName}`,
    );
  }
  if (chosen.gateway === undefined) {
    throw new InternalError(`CNI result for replica ${at.replicaId} has no gateway for ${ip}`);
  }
  return {
    replicaId: at.replicaId,
    netnsPath: at.netnsPath,
    ip,
    prefixLength: Number(prefix),
    gateway: chosen.gateway,
    interface: at.ifName,
    bridge: at.bridge,
  };
}
