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
 * Each bundle initializes with two configurations: the example deployment's
 * first region (a provider fallback, shared target health) and the same
 * without those, so that what a configuration imports only when it uses it
 * (lambda/agent/optional-modules.ts) shows apart from what every runtime loads.
 * The import measured is Lambda's init; what the runtime then imports for
 * its configuration loads after it, before the first request is served.
 *
 * COLD_START_BASELINES=/tmp/a,/tmp/b measures other checkouts of this
 * repository beside it, in the same run (e.g. `git worktree add /tmp/a
 * <commit>`): each one's lambda/agent/index.ts bundled as that checkout
 * deploys it (split when it has lambda/agent/optional-modules.ts, one file
 * before), with this checkout's node_modules.
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
 * runtime does, then times the bundle's import and the work it queued that
 * waits for no I/O (the runtime built from its configuration), which runs
 * before the managed runtime asks for the first event. What waits for I/O
 * (a chunk the configuration imports) is not counted. Plain Node, no loader
 * hooks. It exits once measured: the shared target health's background
 * refresh would keep it alive.
 */
const MEASURE_SCRIPT = `const RESULT_MARK = ${JSON.stringify(RESULT_MARK)};
globalThis.awslambda = { streamifyResponse: (handler) => handler, HttpResponseStream: { from: (stream) => stream } };
const started = performance.now();
const module = await import(process.argv[1]);
await new Promise((resolve) => setImmediate(resolve));
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
async function bundleSplit(outdir: string, entry = ENTRY): Promise<Sizes> {
  const nodePaths = [path.join(ROOT, 'node_modules')];
  const result = await build({ ...handlerBuildOptions(entry, outdir), nodePaths, metafile: true, logLevel: 'warning' });
  const outputs = result.metafile.outputs;
  const handler = Object.keys(outputs).find((file) => path.basename(file) === PREBUNDLED_FILE)!;
  const loaded = new Set<string>();
  const load = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const imported of outputs[file].imports) if (imported.kind === 'import-statement' && !imported.external) load(imported.path);
  };
  load(handler);
  const bytes = (files: string[]) => files.reduce((sum, file) => sum + outputs[file].bytes, 0);
  return { entry: outputs[handler].bytes, loaded: bytes([...loaded]), total: bytes(Object.keys(outputs)) };
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
  const split: Record<string, boolean> = { deployed: true, naive: false };
  for (const checkout of BASELINES) {
    files[checkout] = path.join(directory, `baseline-${Object.keys(files).length}`, PREBUNDLED_FILE);
    const entry = path.join(checkout, 'lambda', 'agent', 'index.ts');
    split[checkout] = fs.existsSync(path.join(checkout, 'lambda', 'agent', 'optional-modules.ts'));
    sizes[checkout] = split[checkout]
      ? await bundleSplit(path.dirname(files[checkout]), entry)
      : await bundle(files[checkout], { ...runtimeBuildOptions(), nodePaths: [path.join(ROOT, 'node_modules')] }, entry);
  }
  // The configuration the example deployment gives its first region, so initialization validates a real one; and the same plain.
  const example = exampleRegions().configs[0];
  const configs = {
    example,
    plain: { ...example, chain: example.chain.filter((target) => !target.provider), sharedHealth: undefined },
  };
  const envOf = (config: object) => ({
    ...process.env,
    AGENT_CONFIG: JSON.stringify(config),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  // Every bundle with every configuration (the naive one with the example's only).
  const cases = Object.keys(files).flatMap((name) =>
    Object.entries(configs)
      .filter(([config]) => name !== 'naive' || config === 'example')
      .map(([config, value]) => ({ key: `${name}/${config}`, name, config, env: envOf(value) })),
  );
  // One unmeasured run of each warms the file cache; then alternate so drift hits all alike.
  for (const { name, env } of cases) measure(files[name], env);
  const samples: Record<string, Sample[]> = Object.fromEntries(cases.map(({ key }) => [key, []]));
  for (let run = 0; run < RUNS; run += 1) for (const { key, name, env } of cases) samples[key].push(measure(files[name], env));
  fs.rmSync(directory, { recursive: true, force: true });

  const labels: Record<string, string> = { deployed: 'deployed (minified ESM, tree-shaken, split)', naive: 'naive (unminified CJS, whole SDK)' };
  const row = ({ key, name, config }: (typeof cases)[number]) => {
    const of = (field: keyof Sample) => median(samples[key].map((sample) => sample[field]));
    const label = `${labels[name] ?? `${name} (${split[name] ? 'split' : 'one file'})`}, ${config} configuration`;
    return { label, sizes: sizes[name], initMs: of('initMs'), processMs: of('processMs'), rssMb: of('rssBytes') / 1024 / 1024 };
  };
  const rows = cases.map(row);
  const deployed = rows[0];
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
