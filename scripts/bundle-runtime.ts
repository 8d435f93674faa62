/**
 * Prebundles the agent runtime into dist/lambda-bundle/agent/index.mjs (and
 * the target probe into dist/lambda-bundle/probe/index.mjs) with
 * the same esbuild settings AgentFunction uses in this repository, so that
 * the published package deploys it without asking its consumers for a
 * bundler (see lib/runtime-bundle.ts). Part of `npm run build`.
 */
import * as path from 'node:path';
import { build } from 'esbuild';
import { PREBUNDLED_FILE, runtimeBuildOptions } from '../lib/runtime-bundle';

const root = path.join(__dirname, '..');

/** One function's handler: lambda/agent/<entry> into dist/lambda-bundle/<name>/index.mjs. */
async function bundle(name: string, entry: string): Promise<void> {
  const outfile = path.join(root, 'dist', 'lambda-bundle', name, PREBUNDLED_FILE);
  const result = await build({
    entryPoints: [path.join(root, 'lambda', 'agent', entry)],
    ...runtimeBuildOptions(),
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`${name} bundle: ${path.relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KB)\n`);
}

async function main(): Promise<void> {
  await bundle('agent', 'index.ts');
  // The scheduled probe of the chain's targets (lib/target-probe.ts).
  await bundle('probe', path.join('probe', 'index.ts'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
