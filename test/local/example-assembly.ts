/**
 * The example deployment (bin/app.ts) synthesized with bundling once per
 * test run (test/once-per-run.ts), for every test file that runs it
 * locally: each reads the same cloud assembly, as `agentctl local` does,
 * and none writes to it. A synthesis with bundling costs seconds of CPU
 * (much more on a busy machine), once instead of once per file.
 */
import { createExampleApp } from '../../bin/app';
import { readLocalDeployment, type LocalDeployment } from '../../local/assembly/read-assembly';
import { oncePerRun } from '../once-per-run';

/** The directory of the run's example assembly. */
export function exampleAssembly(): Promise<string> {
  return oncePerRun('example-assembly', (outdir) => {
    createExampleApp({ outdir }).app.synth();
  });
}

/** The example's regions as the playground runs them, read from the run's example assembly. */
export async function sharedExampleRegions(): Promise<LocalDeployment> {
  return readLocalDeployment(await exampleAssembly());
}
