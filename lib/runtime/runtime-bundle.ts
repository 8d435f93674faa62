import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync, type BuildOptions, type Plugin } from 'esbuild';

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

/**
 * Where the handler's chunks go inside the code asset, beside PREBUNDLED_FILE:
 * the code it imports only when configured (the MCP client, the Lambda and
 * Secrets Manager clients, the AWS SDK's other credential providers) and
 * the code those share with the handler.
 */
export const HANDLER_CHUNKS_DIRECTORY = 'chunks';

/** A handler's bundle: PREBUNDLED_FILE and its chunks, by path inside the code asset. */
export type HandlerFiles = Readonly<Record<string, Uint8Array>>;

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

/**
 * The esbuild settings of a handler: RUNTIME_BUNDLE_OPTIONS, split into ESM
 * chunks so that a dynamic `import()` stays one. In one file, esbuild would
 * inline the imported module behind a lazy initializer, and the modules it
 * shares with the handler (zod's) would then initialize out of order.
 */
export function handlerBuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    ...runtimeBuildOptions(),
    entryPoints: { [PREBUNDLED_FILE.replace(/\.mjs$/, '')]: entry },
    outdir,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: `${HANDLER_CHUNKS_DIRECTORY}/[name]-[hash]`,
  };
}

/** Bundles a handler's entry in memory: its files by path inside the code asset. */
export function bundleHandler(entry: string): HandlerFiles {
  // Nothing is written: the output directory only names the files.
  const outdir = path.resolve('handler');
  const result = buildSync({ ...handlerBuildOptions(entry, outdir), write: false });
  return Object.fromEntries(result.outputFiles.map((file) => [path.relative(outdir, file.path).split(path.sep).join('/'), file.contents]));
}

/** A prebundled handler's files: the directory of its PREBUNDLED_FILE, chunks included. */
export function readHandlerFiles(directory: string): HandlerFiles {
  const files: Record<string, Uint8Array> = {};
  for (const entry of fs.readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(directory, file).split(path.sep).join('/')] = fs.readFileSync(file);
  }
  return files;
}

/**
 * For a bundle of the runtime in one file (the local playground's): its
 * optional modules imported with the rest, since esbuild cannot keep a
 * dynamic import lazy in one file without breaking zod's initialization
 * (lambda/agent/optional-modules.ts).
 */
export const eagerOptionalModules: Plugin = {
  name: 'eager-optional-modules',
  setup(build) {
    build.onResolve({ filter: /[\\/]optional-modules(\.js)?$/ }, (args) =>
      args.importer.includes(`${path.sep}lambda${path.sep}agent${path.sep}`)
        ? { path: path.join(args.resolveDir, `${args.path.replace(/\.js$/, '')}.eager.ts`) }
        : undefined,
    );
  },
};

let handlerBundle: HandlerFiles | undefined;
let probeBundle: HandlerFiles | undefined;

/**
 * The scheduled probe's handler (`index.mjs`, lambda/agent/probe/index.ts):
 * prebundled beside the runtime's in the published package, or bundled from
 * source once per process.
 */
export function probeHandler(libDirectory: string = LIB_DIRECTORY): HandlerFiles {
  const prebundled = path.join(libDirectory, '..', 'lambda-bundle', 'probe', PREBUNDLED_FILE);
  if (fs.existsSync(prebundled)) return readHandlerFiles(path.dirname(prebundled));
  const entry = path.join(libDirectory, '..', 'lambda', 'agent', 'probe', 'index.ts');
  if (!fs.existsSync(entry))
    throw new Error(`cdk-multi-region-agent: neither a prebundled probe (${prebundled}) nor its source (${entry}) is present; reinstall the package`);
  probeBundle ??= bundleHandler(entry);
  return probeBundle;
}

/**
 * The runtime's handler (`index.mjs` and its chunks): the prebundled files,
 * or bundled from source once per process, since every region's function
 * runs the same one.
 */
export function runtimeHandler(source: RuntimeCodeSource = runtimeCodeSource()): HandlerFiles {
  if (source.kind === 'prebundled') return readHandlerFiles(path.dirname(source.file));
  handlerBundle ??= bundleHandler(source.entry);
  return handlerBundle;
}
