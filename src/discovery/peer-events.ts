import { EventEmitter } from 'node:events';
import type { Peer, PeerListener, PeerSourceEvents } from './types';

/**
 * The typed event half of a PeerSource, so each source only decides when to emit. Wraps an
 * EventEmitter instead of extending it so sources expose only the three peer events.
 */
export class PeerEvents<P extends Peer> {
  private readonly emitter = new EventEmitter();

  on<E extends keyof PeerSourceEvents<P>>(event: E, listener: PeerListener<P, E>): void {
    this.emitter.on(event, listener);
  }

  off<E extends keyof PeerSourceEvents<P>>(event: E, listener: PeerListener<P, E>): void {
    this.emitter.off(event, listener);
  }

  emit<E extends keyof PeerSourceEvents<P>>(event: E, ...args: PeerSourceEvents<P>[E]): void {
    this.emitter.emit(event, ...args);
  }

  clear(): void {
    this.emitter.removeAllListeners();
  }
}
