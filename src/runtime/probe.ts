/** What `budgie nest check` asks of the container runtime, without an agent running. */
export interface RuntimeProbe {
  /** The runtime's version at `socket`; rejects when nothing answers within `timeoutMs`. */
  version(socket: string, timeoutMs: number): Promise<string>;
}
