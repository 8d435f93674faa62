/**
 * The example deployment (bin/app.ts) as `agentctl local` runs it, for
 * benchmarks that start the playground in process: the app synthesized
 * with bundling into a temporary cloud assembly, read from the assembly
 * alone (assembly/read-assembly.ts), so they run what `npm run local` and
 * `cdk deploy` do. Tests share one such assembly per run
 * (test/local/example-assembly.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createExampleApp } from '../bin/app';
import { readLocalDeployment, type LocalDeployment } from './assembly/read-assembly';

/** The example's regions, synthesized with bundling into a new temporary cloud assembly. */
export function exampleRegions(): LocalDeployment {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'example-assembly-'));
  createExampleApp({ outdir }).app.synth();
  return readLocalDeployment(outdir);
}

/** How long a test's setup may take to synthesize the example (seconds alone; much more on a busy machine). */
export const EXAMPLE_SYNTH_TIMEOUT_MS = 240_000;
