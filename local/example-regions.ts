/**
 * The example deployment (bin/app.ts) as `agentctl local` runs it, for tests
 * and benchmarks that start the playground in process: the app synthesized
 * with bundling into a temporary cloud assembly, read from the assembly
 * alone (assembly/read-assembly.ts), so they run what `npm run local` and
 * `cdk deploy` do. The assembly is removed when the process exits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createExampleApp } from '../bin/app';
import { readLocalDeployment, type LocalDeployment } from './assembly/read-assembly';

export function exampleRegions(): LocalDeployment {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'example-assembly-'));
  process.once('exit', () => fs.rmSync(outdir, { recursive: true, force: true }));
  createExampleApp({ outdir }).app.synth();
  return readLocalDeployment(outdir);
}

/** How long a test's setup may take to synthesize the example (seconds alone; much more on a busy machine). */
export const EXAMPLE_SYNTH_TIMEOUT_MS = 240_000;
