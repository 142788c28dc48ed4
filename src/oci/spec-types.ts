/** The part of the OCI runtime spec (runtime-spec 1.0) that Budgie writes. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    /** Absent: inherit containerd's limits. */
    rlimits?: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    cgroupsPath: string;
    namespaces: { type: string; path?: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    resources: { devices: { allow: boolean; access: string }[] };
  };
}

/** What an image's config says about how to run it (OCI image-spec `config`). */
export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}
