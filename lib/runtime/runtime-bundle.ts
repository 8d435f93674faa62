import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync, type BuildOptions } from 'esbuild';

/**
 * Where the agent runtime's code comes from. In this repository lib/ runs
 * from source, and the runtime's handler is bundled from
 * lambda/agent/index.ts with esbuild at synthesis (once per process). In the
 * published package there is no source and no bundler configuration to ask
 * of the consumer, so `npm run build` prebundles the handler with the same
 * settings (scripts/bundle-runtime.ts) and the construct copies that file.
 *
 * `agentModule` is the source of `cdk-multi-region-agent/agent`, which a
 * user's entry imports: in this repository the name is aliased to it; from
 * the published package it resolves through the package's exports map.
 */
export type RuntimeCodeSource = { kind: 'source'; entry: string; agentModule: string } | { kind: 'prebundled'; file: string };

/** esbuild settings shared by the runtime's handler, the user's agent entry and the prebundling script. */
export const RUNTIME_BUNDLE_OPTIONS = {
  /** ESM so that top-level initialization is cheap and tree shaking works best. */
  format: 'esm',
  target: 'node22',
  minify: true,
  /** Prefer ESM entry points of dependencies for better tree shaking. */
  mainFields: ['module', 'main'],
  /** Some dependencies still call require(); ESM output needs it defined. */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;

/** File name of the runtime's handler inside the code asset (handler `index.handler`). */
export const PREBUNDLED_FILE = 'index.mjs';

/** The handler setting of a function whose code is the runtime's asset. */
export const RUNTIME_HANDLER = `${PREBUNDLED_FILE.replace(/\.mjs$/, '')}.handler`;

/** RUNTIME_BUNDLE_OPTIONS as esbuild build options for one Node.js bundle (the AWS SDK included: we bundle the clients we pinned and tested). */
export function runtimeBuildOptions(): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: RUNTIME_BUNDLE_OPTIONS.format,
    target: RUNTIME_BUNDLE_OPTIONS.target,
    minify: RUNTIME_BUNDLE_OPTIONS.minify,
    mainFields: [...RUNTIME_BUNDLE_OPTIONS.mainFields],
    banner: { js: RUNTIME_BUNDLE_OPTIONS.banner },
    sourcemap: false,
    logLevel: 'silent',
  };
}

/** The package's lib/ (dist/lib/ when installed), beside lambda-bundle/ and lambda/: this file is in lib/runtime/. */
const LIB_DIRECTORY = path.join(__dirname, '..');

export function runtimeCodeSource(libDirectory: string = LIB_DIRECTORY): RuntimeCodeSource {
  const prebundled = path.join(libDirectory, '..', 'lambda-bundle', 'agent', PREBUNDLED_FILE);
  if (fs.existsSync(prebundled)) return { kind: 'prebundled', file: prebundled };
  const projectRoot = path.join(libDirectory, '..');
  const entry = path.join(projectRoot, 'lambda', 'agent', 'index.ts');
  if (!fs.existsSync(entry)) {
    throw new Error(`cdk-multi-region-agent: neither a prebundled runtime (${prebundled}) nor its source (${entry}) is present; reinstall the package`);
  }
  return { kind: 'source', entry, agentModule: path.join(projectRoot, 'lambda', 'agent', 'agent', 'index.ts') };
}

let handlerBundle: Uint8Array | undefined;
let probeBundle: Uint8Array | undefined;

/**
 * The scheduled probe's handler (`index.mjs`, lambda/agent/probe/index.ts):
 * prebundled beside the runtime's in the published package, or bundled from
 * source once per process.
 */
export function probeHandler(libDirectory: string = LIB_DIRECTORY): Uint8Array {
  const prebundled = path.join(libDirectory, '..', 'lambda-bundle', 'probe', PREBUNDLED_FILE);
  if (fs.existsSync(prebundled)) return fs.readFileSync(prebundled);
  const entry = path.join(libDirectory, '..', 'lambda', 'agent', 'probe', 'index.ts');
  if (!fs.existsSync(entry))
    throw new Error(`cdk-multi-region-agent: neither a prebundled probe (${prebundled}) nor its source (${entry}) is present; reinstall the package`);
  probeBundle ??= buildSync({ ...runtimeBuildOptions(), entryPoints: [entry], outfile: PREBUNDLED_FILE, write: false }).outputFiles[0].contents;
  return probeBundle;
}

/**
 * The runtime's handler (`index.mjs`): the prebundled file, or bundled from
 * source once per process, since every region's function runs the same one.
 */
export function runtimeHandler(source: RuntimeCodeSource = runtimeCodeSource()): Uint8Array {
  if (source.kind === 'prebundled') return fs.readFileSync(source.file);
  if (!handlerBundle) {
    const result = buildSync({ ...runtimeBuildOptions(), entryPoints: [source.entry], outfile: PREBUNDLED_FILE, write: false });
    handlerBundle = result.outputFiles[0].contents;
  }
  return handlerBundle;
}
