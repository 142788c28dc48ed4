/** The network module's only contact with the host, injected so unit tests can fake it. */
export interface NetworkHost {
  /** Runs a plugin binary. Resolves with how it ended; rejects only when it could not start. */
  runPlugin(path: string, call: PluginCall, signal?: AbortSignal): Promise<PluginExit>;
  /** True when `path` is an executable file. */
  isExecutable(path: string): Promise<boolean>;
  /** True when the process may configure networking (root). */
  isPrivileged(): boolean;
  /** The text of /proc/net/route. */
  readRoutes(): Promise<string>;
  netns: NetnsHost;
}

export interface PluginCall {
  env: Record<string, string>;
  stdin: string;
}

export interface PluginExit {
  /** null when the plugin was killed by a signal. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Named network namespaces (bind mounts in one directory, as `ip netns` keeps them). */
export interface NetnsHost {
  /** The directory of the bind mounts; a namespace's path is `dir/name`. */
  readonly dir: string;
  /** Creates the named namespace. */
  add(name: string): Promise<void>;
  /** Removes the named namespace; resolves when it does not exist. */
  remove(name: string): Promise<void>;
  /** The names of all namespaces in `dir`. */
  list(): Promise<string[]>;
}
