/**
 * Synthesis benchmark: the example app (cdk-nag included, runtime bundled
 * with esbuild) with 4, 10 and 20 regions, each synthesized in a fresh
 * process as `cdk synth` would, and the runtime bundle's size.
 *
 *   npm run bench:synth
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Jurisdiction } from '../lib';
import { createExampleApp } from '../bin/app';

const REGION_SETS: Record<number, () => Jurisdiction[]> = {
  4: () => [
    Jurisdiction.us(['us-east-1', 'us-west-2']),
    Jurisdiction.eu(['eu-west-1', 'eu-central-1'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
  ],
  10: () => [
    Jurisdiction.us(['us-east-1', 'us-east-2', 'us-west-2']),
    Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-west-3', 'eu-north-1'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
    Jurisdiction.apac(['ap-northeast-1', 'ap-southeast-2', 'ap-south-1']),
  ],
  20: () => [
    Jurisdiction.us(['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2']),
    Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-west-2', 'eu-west-3', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-central-2'], {
      geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)],
    }),
    Jurisdiction.apac([
      'ap-northeast-1',
      'ap-northeast-2',
      'ap-northeast-3',
      'ap-south-1',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-southeast-3',
      'ap-southeast-4',
    ]),
  ],
};

/** Child mode: synthesize one size and print the in-process time. */
function synthesizeOnce(regions: number): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-synth-'));
  process.env.CDK_OUTDIR = outdir;
  const started = performance.now();
  const { app } = createExampleApp({ jurisdictions: REGION_SETS[regions]() });
  const assembly = app.synth();
  const elapsed = performance.now() - started;
  const bundle = fs
    .readdirSync(outdir)
    .filter((entry) => entry.startsWith('asset.'))
    // The runtime's asset, which holds the agent's bundle beside the handler (the tool functions' assets have their own index.mjs).
    .filter((entry) => fs.existsSync(path.join(outdir, entry, 'agent.mjs')))
    .map((entry) => path.join(outdir, entry, 'index.mjs'))
    .find((file) => fs.existsSync(file));
  process.stdout.write(JSON.stringify({ stacks: assembly.stacks.length, synthMs: elapsed, bundleBytes: bundle ? fs.statSync(bundle).size : 0 }));
  fs.rmSync(outdir, { recursive: true, force: true });
}

function main(): void {
  const run = (size: string) =>
    execFileSync(process.execPath, ['--import', 'tsx', __filename, size], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
  // One unmeasured run fills tsx's compile cache, as any second `cdk synth` finds it.
  run('4');
  const rows = Object.keys(REGION_SETS).map((size) => {
    const started = performance.now();
    const output = run(size);
    const result = JSON.parse(output.slice(output.lastIndexOf('{"stacks"'))) as { stacks: number; synthMs: number; bundleBytes: number };
    return { regions: Number(size), ...result, processMs: performance.now() - started };
  });
  process.stdout.write('| regions | stacks | synthesis (in process) | whole process | target |\n|---|---|---|---|---|\n');
  for (const row of rows) {
    process.stdout.write(
      `| ${row.regions} | ${row.stacks} | ${(row.synthMs / 1000).toFixed(1)} s | ${(row.processMs / 1000).toFixed(1)} s | ${row.regions === 20 ? (row.processMs < 30_000 ? 'under 30 s: met' : 'over 30 s: missed') : ''} |\n`,
    );
  }
  process.stdout.write(
    `\nruntime bundle: ${(rows[0].bundleBytes / 1024).toFixed(0)} KB (minified ESM: Bedrock Runtime, DynamoDB, Lambda and Secrets Manager clients, Powertools logger and metrics, zod, eventsource-parser)\n`,
  );
}

if (process.argv[2]) synthesizeOnce(Number(process.argv[2]));
else main();
