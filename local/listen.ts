/** The one way the local servers start listening. */
import type { AddressInfo, Server } from 'node:net';

/** Listens on `host`:`port` (0: any free port) and answers the server's URL; rejects when it cannot listen, e.g. the port is taken. */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}
