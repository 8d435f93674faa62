/** A client that leaves mid-upload: what a local server must survive. */
import * as net from 'node:net';

/** Sends the headers and part of a body, then hangs up. */
export async function hangUpMidUpload(url: string, pathname: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"text":"half`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  socket.destroy();
  // Time for the server to notice, and to die of it if it would.
  await new Promise((resolve) => setTimeout(resolve, 500));
}
