/**
 * Runs a Lambda bundle, unmodified, as a streaming function on a local port:
 *
 *   AGENT_CONFIG='{...}' tsx local/lambda-host.ts path/to/index.mjs
 *
 * Like the managed runtime, it defines the `awslambda` global, then loads
 * the bundle in this fresh process (its cold start) and serves its handler.
 * It prints `LAMBDA_HOST_URL=<url>` once it listens.
 */
import { pathToFileURL } from 'node:url';
import { installAwslambdaGlobal, LambdaStreamingServer } from './lambda-streaming';

async function main(): Promise<void> {
  const bundle = process.argv[2];
  if (!bundle) throw new Error('usage: tsx local/lambda-host.ts <bundle file>');
  installAwslambdaGlobal();
  const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Parameters<typeof LambdaStreamingServer.start>[0] };
  const server = await LambdaStreamingServer.start(handler, { port: Number(process.env.PORT ?? 0) });
  process.stdout.write(`LAMBDA_HOST_URL=${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
