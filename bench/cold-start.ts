/**
 * Cold start proxy: the runtime bundle as deployed (esbuild with the
 * settings AgentFunction uses: minified ESM, dependencies' ESM entry
 * points, tree-shaken, split into the handler and the chunks it imports
 * only when configured) against a naive bundle of the same handler
 * (unminified CommonJS from the packages' `main` entry points, no tree
 * shaking, so every SDK client and command is in it). For each: its size
 * (for the deployed one: the handler file, what its initialization loads,
 * and every chunk), and in fresh Node processes the time to load and
 * initialize the module (parse, top-level code, configuration validation,
 * SDK clients created), which is what Lambda's init phase spends on it.
 *
 *   npm run bench:cold-start        (about 15 s)
 *
 * COLD_START_BASELINES=/tmp/a,/tmp/b measures other checkouts of this
 * repository beside it, in the same run (e.g. `git worktree add /tmp/a
 * <commit>`): each one's lambda/agent/index.ts bundled as one file, as the
 * runtime was before it was split, with this checkout's node_modules.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { eagerOptionalModules, handlerBuildOptions, PREBUNDLED_FILE, runtimeBuildOptions } from '../lib/runtime/runtime-bundle';
import { exampleRegions } from '../local/example-regions';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ROOT = path.join(__dirname, '..');
const ENTRY = path.join(ROOT, 'lambda', 'agent', 'index.ts');
const BASELINES = (process.env.COLD_START_BASELINES ?? '').split(',').filter(Boolean);

/** Marks the measurement's line: the runtime's own logs (JSON on stdout, as in Lambda) may come before it. */
const RESULT_MARK = 'cold-start-result ';

/**
 * Runs in the fresh process: defines the `awslambda` global as the managed
 * runtime does, then times the bundle's import. Plain Node, no loader hooks.
 * It exits once measured: the shared target health's background refresh
 * would keep it alive.
 */
const MEASURE_SCRIPT = `const RESULT_MARK = ${JSON.stringify(RESULT_MARK)};
globalThis.awslambda = { streamifyResponse: (handler) => handler, HttpResponseStream: { from: (stream) => stream } };
const started = performance.now();
const module = await import(process.argv[1]);
const initMs = performance.now() - started;
if (typeof module.handler !== 'function' && typeof module.default?.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write('\\n' + RESULT_MARK + JSON.stringify({ initMs, rssBytes: process.memoryUsage().rss }) + '\\n');
process.exit(0);
`;

type Sample = { initMs: number; rssBytes: number; processMs: number };

/** A bundle's sizes: its entry file, what loading it loads (the entry and its static imports), every file. */
type Sizes = { entry: number; loaded: number; total: number };

async function bundle(outfile: string, options: BuildOptions, entry = ENTRY): Promise<Sizes> {
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', ...options, logLevel: 'warning' });
  const bytes = fs.statSync(outfile).size;
  return { entry: bytes, loaded: bytes, total: bytes };
}

/** The deployed handler: split, as lib/runtime/runtime-bundle.ts builds it. */
async function bundleSplit(outdir: string): Promise<Sizes> {
  const result = await build({ ...handlerBuildOptions(ENTRY, outdir), metafile: true, logLevel: 'warning' });
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((file) => path.basename(file) === PREBUNDLED_FILE)!;
  const loaded = new Set<string>();
  const load = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const imported of outputs[file].imports) if (imported.kind === 'import-statement' && !imported.external) load(imported.path);
  };
  load(entry);
  const bytes = (files: string[]) => files.reduce((sum, file) => sum + outputs[file].bytes, 0);
  return { entry: outputs[entry].bytes, loaded: bytes([...loaded]), total: bytes(Object.keys(outputs)) };
}

function measure(file: string, env: NodeJS.ProcessEnv): Sample {
  const started = performance.now();
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', MEASURE_SCRIPT, file], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const result = output.split('\n').find((line) => line.startsWith(RESULT_MARK));
  if (!result) throw new Error(`the measurement printed no result: ${output}`);
  return { ...(JSON.parse(result.slice(RESULT_MARK.length)) as Omit<Sample, 'processMs'>), processMs: performance.now() - started };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cold-start-'));
  const files: Record<string, string> = {
    deployed: path.join(directory, 'deployed', PREBUNDLED_FILE),
    naive: path.join(directory, 'naive', 'index.js'),
  };
  const sizes: Record<string, Sizes> = {
    deployed: await bundleSplit(path.dirname(files.deployed)),
    naive: await bundle(files.naive, {
      format: 'cjs',
      target: 'node22',
      minify: false,
      treeShaking: false,
      mainFields: ['main'],
      plugins: [eagerOptionalModules],
    }),
  };
  for (const checkout of BASELINES) {
    files[checkout] = path.join(directory, `baseline-${Object.keys(files).length}`, PREBUNDLED_FILE);
    const options = { ...runtimeBuildOptions(), nodePaths: [path.join(ROOT, 'node_modules')] };
    sizes[checkout] = await bundle(files[checkout], options, path.join(checkout, 'lambda', 'agent', 'index.ts'));
  }
  // The configuration the example deployment gives its first region, so initialization validates a real one.
  const env = {
    ...process.env,
    AGENT_CONFIG: JSON.stringify(exampleRegions().configs[0]),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // One unmeasured run of each warms the file cache; then alternate so drift hits all alike.
  const names = Object.keys(files);
  for (const name of names) measure(files[name], env);
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let run = 0; run < RUNS; run += 1) for (const name of names) samples[name].push(measure(files[name], env));
  fs.rmSync(directory, { recursive: true, force: true });

  const row = (name: string, label: string) => {
    const of = (key: keyof Sample) => median(samples[name].map((sample) => sample[key]));
    return { label, sizes: sizes[name], initMs: of('initMs'), processMs: of('processMs'), rssMb: of('rssBytes') / 1024 / 1024 };
  };
  const deployed = row('deployed', 'deployed (minified ESM, tree-shaken, split)');
  const rows = [deployed, row('naive', 'naive (unminified CJS, whole SDK)'), ...BASELINES.map((checkout) => row(checkout, `${checkout} (one file)`))];
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  process.stdout.write(`Cold start proxy, median of ${RUNS} fresh Node ${process.version} processes each\n\n`);
  process.stdout.write('| bundle | handler file | loaded at init | all files | module init | init / deployed | whole process | RSS after init |\n');
  process.stdout.write('|---|---|---|---|---|---|---|---|\n');
  for (const result of rows) {
    process.stdout.write(
      `| ${result.label} | ${kb(result.sizes.entry)} | ${kb(result.sizes.loaded)} | ${kb(result.sizes.total)} | ${result.initMs.toFixed(1)} ms | ` +
        `${(result.initMs / deployed.initMs).toFixed(2)}x | ${result.processMs.toFixed(0)} ms | ${result.rssMb.toFixed(0)} MB |\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
