/** The port proxy: published ports forwarded to healthy replicas (TCP round-robin, UDP per flow). */
export { ConnectTimeoutError, tcpConnect } from './connect';
export { PortProxy, type PortProxyOptions } from './port-proxy';
export {
  ProxyTable,
  type ProxyDefaults,
  type PublishedPort,
  type RemoteBackends,
} from './proxy-table';
export type {
  Backend,
  BackendState,
  BackendStats,
  Connector,
  ProxyProtocol,
  ProxyStats,
} from './types';
