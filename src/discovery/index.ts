/** Discovery: mDNS adverts and browsing of Budgie nodes, and static peers, as PeerSources. */
export { MdnsAdvertiser, DEFAULT_TTL_SECONDS, type AdvertiserOptions } from './advertiser';
export { MdnsBrowser, type BrowserOptions } from './browser';
export { systemClock, type Clock } from './clock';
export { discover, type DiscoverOptions } from './discover';
export { localAddresses } from './local-addresses';
export { openMulticastTransport, type MulticastOptions } from './multicast-transport';
export { SERVICE_TYPE } from './names';
export { StaticPeers } from './static-peers';
export type { DnsQuestion, DnsRecord, MdnsTransport } from './transport';
export { decodeTxt, encodeTxt, PROTOCOL_VERSION } from './txt';
export type { Advert, MdnsPeer, Peer, PeerSource, PeerSourceEvents, StaticPeer } from './types';
