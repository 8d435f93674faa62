/** The one way the local servers start listening. */
import * as http from 'node:http';
import type { AddressInfo, Server } from 'node:net';

/**
 * How long an idle keep-alive connection stays open. Node's default (5 s) is
 * barely above clients' own (undici's 4 s), so a client may reuse a
 * connection at the moment the server closes it, and see a reset; load
 * balancers keep them for a minute, and so do these servers.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Listens on `host`:`port` (0: any free port) and answers the server's URL; rejects when it cannot listen, e.g. the port is taken. */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  if (server instanceof http.Server) {
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // Headers must be allowed to take longer than the idle timeout, or Node cuts idle connections early.
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}
