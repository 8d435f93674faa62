/**
 * Cold start proxy: the runtime bundle as deployed (esbuild with the
 * settings AgentFunction uses: minified ESM, dependencies' ESM entry
 * points, tree-shaken) against a naive bundle of the same handler
 * (unminified CommonJS from the packages' `main` entry points, no tree
 * shaking, so every SDK client and command is in it). For each: its size,
 * and in fresh Node processes the time to load and initialize the module
 * (parse, top-level code, configuration validation, SDK clients created),
 * which is what Lambda's init phase spends on it.
 *
 *   npm run bench:cold-start        (about 15 s)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { runtimeBuildOptions } from '../lib/runtime/runtime-bundle';
import { exampleRegions } from '../local/example-regions';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ENTRY = path.join(__dirname, '..', 'lambda', 'agent', 'index.ts');

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

async function bundle(outfile: string, options: BuildOptions): Promise<number> {
  await build({ entryPoints: [ENTRY], outfile, bundle: true, platform: 'node', ...options, logLevel: 'warning' });
  return fs.statSync(outfile).size;
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
  const deployedFile = path.join(directory, 'deployed', 'index.mjs');
  const naiveFile = path.join(directory, 'naive', 'index.js');
  const sizes = {
    deployed: await bundle(deployedFile, runtimeBuildOptions()),
    naive: await bundle(naiveFile, { format: 'cjs', target: 'node22', minify: false, treeShaking: false, mainFields: ['main'] }),
  };
  // The configuration the example deployment gives its first region, so initialization validates a real one.
  const env = {
    ...process.env,
    AGENT_CONFIG: JSON.stringify(exampleRegions().configs[0]),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // One unmeasured run of each warms the file cache; then alternate so drift hits both alike.
  measure(deployedFile, env);
  measure(naiveFile, env);
  const samples: Record<'deployed' | 'naive', Sample[]> = { deployed: [], naive: [] };
  for (let run = 0; run < RUNS; run += 1) {
    samples.deployed.push(measure(deployedFile, env));
    samples.naive.push(measure(naiveFile, env));
  }
  fs.rmSync(directory, { recursive: true, force: true });

  const row = (name: 'deployed' | 'naive', label: string) => {
    const of = (key: keyof Sample) => median(samples[name].map((sample) => sample[key]));
    return { label, kb: sizes[name] / 1024, initMs: of('initMs'), processMs: of('processMs'), rssMb: of('rssBytes') / 1024 / 1024 };
  };
  const deployed = row('deployed', 'deployed (minified ESM, tree-shaken)');
  const naive = row('naive', 'naive (unminified CJS, whole SDK)');
  process.stdout.write(`Cold start proxy, median of ${RUNS} fresh Node ${process.version} processes each\n\n`);
  process.stdout.write('| bundle | size | module init | whole process | RSS after init |\n|---|---|---|---|---|\n');
  for (const result of [deployed, naive]) {
    process.stdout.write(
      `| ${result.label} | ${result.kb.toFixed(0)} KB | ${result.initMs.toFixed(1)} ms | ${result.processMs.toFixed(0)} ms | ${result.rssMb.toFixed(0)} MB |\n`,
    );
  }
  process.stdout.write(
    `| naive / deployed | ${(naive.kb / deployed.kb).toFixed(2)}x | ${(naive.initMs / deployed.initMs).toFixed(2)}x | ${(naive.processMs / deployed.processMs).toFixed(2)}x | ${(naive.rssMb / deployed.rssMb).toFixed(2)}x |\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
