/**
 * A TLS front for the local RabbitMQ (which listens in plain TCP here): terminates TLS with
 * the test's server certificate, optionally requiring a client certificate signed by the
 * test's CA, and pipes the bytes to 127.0.0.1:5672, as a TLS listener of the broker would.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type Server } from 'node:tls';

export class TlsFront {
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(o: { cert: string; key: string; ca: string; requireClientCert: boolean }, target = { host: '127.0.0.1', port: 5672 }): Promise<TlsFront> {
    const sockets = new Set<Socket>();
    const server = createServer(
      { cert: readFileSync(o.cert), key: readFileSync(o.key), ca: readFileSync(o.ca), requestCert: o.requireClientCert, rejectUnauthorized: o.requireClientCert },
      (client) => {
        const upstream = connect(target);
        sockets.add(client);
        sockets.add(upstream);
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      },
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const front = new TlsFront(server, (server.address() as { port: number }).port);
    for (const s of sockets) front.sockets.add(s);
    return front;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
