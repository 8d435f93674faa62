/**
 * Prebundles the agent runtime into dist/lambda-bundle/agent/index.mjs and
 * its chunks (and the target probe into dist/lambda-bundle/probe/) with
 * the same esbuild settings AgentFunction uses in this repository, so that
 * the published package deploys it without asking its consumers for a
 * bundler (see lib/runtime/runtime-bundle.ts). And `agentctl local`
 * (local/run-local.ts, with the runtime, emulators and SDK clients it runs)
 * into dist/local/run-local.js, beside the page it serves, so that consumers
 * need none of the playground's dependencies but dynalite. Part of `npm run build`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { eagerOptionalModules, handlerBuildOptions, PREBUNDLED_FILE } from '../lib/runtime/runtime-bundle';
import { WEB_ASSETS } from '../local/views';

const root = path.join(__dirname, '..');

/** One function's handler: lambda/agent/<entry> into dist/lambda-bundle/<name>/ (index.mjs and its chunks). */
async function bundle(name: string, entry: string): Promise<void> {
  const outdir = path.join(root, 'dist', 'lambda-bundle', name);
  // A build of the sources before leaves chunks of other hashes.
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await build({ ...handlerBuildOptions(path.join(root, 'lambda', 'agent', entry), outdir), metafile: true, logLevel: 'warning' });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`${name} bundle: ${path.relative(root, path.join(outdir, PREBUNDLED_FILE))} and its chunks (${(bytes / 1024).toFixed(0)} KB)\n`);
}

/**
 * What the local bundle leaves to the consumer's node_modules: the CDK
 * (a peer dependency: the app's own copy reads its assembly), esbuild (a
 * dependency), and dynalite, which loads its actions by computed paths.
 */
const LOCAL_EXTERNALS = ['aws-cdk-lib', 'constructs', 'esbuild', 'dynalite'];

async function bundleLocal(): Promise<void> {
  const outdir = path.join(root, 'dist', 'local');
  const outfile = path.join(outdir, 'run-local.js');
  const result = await build({
    entryPoints: [path.join(root, 'local', 'run-local.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: LOCAL_EXTERNALS,
    plugins: [eagerOptionalModules],
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
  const web = path.join(outdir, 'web');
  fs.mkdirSync(path.join(web, 'vendor'), { recursive: true });
  fs.copyFileSync(path.join(root, 'local', 'web', 'index.html'), path.join(web, 'index.html'));
  // The page's script and style files, served from beside the bundle (local/views.ts).
  for (const [name, { pkg, file }] of Object.entries(WEB_ASSETS))
    fs.copyFileSync(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file), path.join(web, 'vendor', name));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`local bundle: ${path.relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KB)\n`);
}

async function main(): Promise<void> {
  await bundleLocal();
  await bundle('agent', 'index.ts');
  // The scheduled probe of the chain's targets (lib/health/target-probe.ts).
  await bundle('probe', path.join('probe', 'index.ts'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
