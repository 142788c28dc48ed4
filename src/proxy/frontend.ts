/** What PortProxy needs from a protocol's listener: TcpFrontend and UdpFrontend. */
export interface Frontend {
  /** Binds; resolves with the bound port (useful with port 0) or rejects with the bind error. */
  listen(host: string, port: number): Promise<number>;
  readonly listening: boolean;
  /** No new connections or flows; existing ones go on. */
  stopAccepting(): void;
  /** Closes the listener and cuts whatever is still open. */
  close(): void;
  traffic(): Traffic;
}

export interface Traffic {
  active: number;
  total: number;
  rejected: number;
  fromClients: number;
  toClients: number;
  buffered: number;
}
