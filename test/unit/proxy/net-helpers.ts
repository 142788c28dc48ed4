import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';

export const LOCALHOST = '127.0.0.1';

export interface TestServer {
  id: string;
  port: number;
  server: net.Server;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:0; `onSocket` gets every accepted connection. */
export async function tcpServer(
  id: string,
  onSocket: (socket: net.Socket) => void,
): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  server.listen(0, LOCALHOST);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    id,
    port,
    server,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Replies `<id>:<what it received>` once the client half-closes, then ends. */
export function echoServer(id: string): Promise<TestServer> {
  return tcpServer(id, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => socket.end(`${id}:${Buffer.concat(chunks).toString()}`));
  });
}

/** A port on 127.0.0.1 that refuses connections (it was just free). */
export async function refusedPort(): Promise<number> {
  const s = await tcpServer('gone', () => undefined);
  await s.close();
  return s.port;
}

/**
 * A real black hole on 127.0.0.1: a child process listens with a backlog of 1 and is stopped, and
 * its accept queue is filled, so the kernel drops further SYNs and connects hang.
 */
export async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('net').createServer();
       s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
         console.log(s.address().port);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  child.kill('SIGSTOP');
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 6; i++) {
    const f = net.connect(port, LOCALHOST);
    f.on('error', () => undefined);
    fillers.push(f);
  }
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    },
  };
}

/** Connects, sends `payload` at once (before any backend is chosen), half-closes, reads all. */
export async function roundTrip(port: number, payload = 'hello'): Promise<string> {
  const socket = net.connect({ port, host: LOCALHOST, allowHalfOpen: true });
  socket.end(payload);
  return readAll(socket);
}

/** Reads until the peer's end; unlike `for await`, leaves the socket open for writing. */
export async function readAll(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  return Buffer.concat(chunks).toString();
}

/** A UDP server on 127.0.0.1:0 answering `<id>:<datagram>` to the sender. */
export async function udpEcho(id: string): Promise<{ id: string; port: number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    socket.send(`${id}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  socket.bind(0, LOCALHOST);
  await once(socket, 'listening');
  return {
    id,
    port: socket.address().port,
    close: () => {
      socket.close();
    },
  };
}

/** A UDP client bound to its own port; `ask` sends one datagram and waits for one reply. */
export async function udpClient(proxyPort: number) {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, LOCALHOST);
  await once(socket, 'listening');
  return {
    socket,
    ask: async (msg: string, timeoutMs = 1000): Promise<string> => {
      const reply = once(socket, 'message', { signal: AbortSignal.timeout(timeoutMs) });
      socket.send(msg, proxyPort, LOCALHOST);
      const [data] = (await reply) as [Buffer];
      return data.toString();
    },
    close: () => {
      socket.close();
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
