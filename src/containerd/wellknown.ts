import type { Any } from '../gen/google/protobuf/any';
import type { Timestamp } from '../gen/google/protobuf/timestamp';

/** containerd's type URLs for OCI specs it stores as JSON in an Any. */
export const OCI_SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
export const OCI_PROCESS_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process';

/** An Any holding JSON, as containerd stores OCI runtime specs and process specs. */
export function jsonAny(typeUrl: string, value: unknown): Any {
  return { typeUrl, value: Buffer.from(JSON.stringify(value)) };
}

/** The JSON inside such an Any, still untrusted: decode it before use. */
export function parseJsonAny(any: Any): unknown {
  return JSON.parse(Buffer.from(any.value).toString('utf8'));
}

/** Milliseconds since the epoch; 0 for a missing timestamp. */
export function timestampMs(ts: Timestamp | undefined): number {
  if (ts === undefined) return 0;
  return ts.seconds * 1000 + Math.floor(ts.nanos / 1e6);
}

export function timestampOf(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}
