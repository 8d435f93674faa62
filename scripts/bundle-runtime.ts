/**
 * Prebundles the agent runtime into dist/lambda-bundle/agent/index.mjs with
 * the same esbuild settings AgentFunction uses in this repository, so that
 * the published package deploys it without asking its consumers for a
 * bundler (see lib/runtime-bundle.ts). Part of `npm run build`.
 */
import * as path from 'node:path';
import { build } from 'esbuild';
import { PREBUNDLED_FILE, runtimeBuildOptions } from '../lib/runtime-bundle';

async function main(): Promise<void> {
  const root = path.join(__dirname, '..');
  const outfile = path.join(root, 'dist', 'lambda-bundle', 'agent', PREBUNDLED_FILE);
  const result = await build({
    entryPoints: [path.join(root, 'lambda', 'agent', 'index.ts')],
    ...runtimeBuildOptions(),
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`runtime bundle: ${path.relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KB)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
