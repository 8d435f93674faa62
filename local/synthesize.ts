/**
 * Synthesizes a CDK app the way `cdk synth` does, without the CDK CLI: its
 * `cdk.json` names the app's command, which runs with CDK_OUTDIR (where to
 * write the cloud assembly) and CDK_CONTEXT_JSON (cdk.json's context over
 * cdk.context.json's, as the CLI passes them). The CLI would add its own
 * start-up (a second or two) and ask for the `aws-cdk` package; the app's
 * command is all synthesis needs. Context lookups (`fromLookup`) need the
 * CLI and AWS credentials: an app that asks for one is told to run
 * `npx cdk synth` once, which stores the answers in cdk.context.json.
 * aws-cdk-lib's built-in template validation is skipped unless the app
 * makes its findings errors (see validationWanted).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VALIDATE_AGAINST_DEFAULT_RULES } from 'aws-cdk-lib/cx-api';
import { LocalDeploymentError } from './assembly/errors';

/** The last lines of a failed app's output that the error shows. */
const ERROR_LINES = 40;

export interface SynthesisOptions {
  /** The app's directory, holding its cdk.json. */
  readonly appDirectory: string;
  /** Where the cloud assembly is written. */
  readonly outdir: string;
  /** The app's command. @default - cdk.json's "app" */
  readonly app?: string;
}

export async function synthesizeApp(options: SynthesisOptions): Promise<void> {
  const cdkJson = readJson(path.join(options.appDirectory, 'cdk.json')) as { app?: string; context?: Record<string, unknown> } | undefined;
  const command = options.app ?? cdkJson?.app;
  if (!command) {
    throw new LocalDeploymentError(
      'SynthFailed',
      `no app to synthesize in ${options.appDirectory}: there is no cdk.json with an "app" command; run agentctl local in the app's directory, pass --app "<command>", or pass --assembly cdk.out`,
    );
  }
  const context: Record<string, unknown> = { ...(readJson(path.join(options.appDirectory, 'cdk.context.json')) as object | undefined), ...cdkJson?.context };
  const output = await run(command, options.appDirectory, {
    CDK_OUTDIR: options.outdir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    ...(validationWanted(context) ? {} : { CDK_VALIDATION: 'false' }),
  });
  if (output.code !== 0) {
    throw new LocalDeploymentError(
      'SynthFailed',
      `the app failed to synthesize (\`${command}\` exited with ${output.code}); fix the error below and save again:\n${output.text.split('\n').slice(-ERROR_LINES).join('\n')}`,
    );
  }
  const manifest = readJson(path.join(options.outdir, 'manifest.json')) as { missing?: Array<{ key: string }> } | undefined;
  if (manifest?.missing?.length) {
    throw new LocalDeploymentError(
      'SynthFailed',
      `the app looks up context from AWS (${manifest.missing.map((missing) => missing.key).join(', ')}), which only the CDK CLI can do; ` +
        'run `npx cdk synth` once with AWS credentials (it stores the answers in cdk.context.json), then agentctl local again',
    );
  }
}

/**
 * Whether synthesis runs aws-cdk-lib's built-in CloudFormation validation
 * (@aws/cloudformation-validate, in WebAssembly): over half of the example's
 * synthesis (13 of 25 s on a busy 2-core machine), for a report whose
 * findings are warnings that change nothing deployed. Kept when the app
 * makes them errors (`@aws-cdk/core:validateAgainstDefaultRules`) or the
 * caller set CDK_VALIDATION; validation plugins the app registers run either way.
 */
function validationWanted(context: Record<string, unknown>): boolean {
  const strict = context[VALIDATE_AGAINST_DEFAULT_RULES];
  return process.env.CDK_VALIDATION !== undefined || strict === true || strict === 'true';
}

function run(command: string, cwd: string, env: Record<string, string>): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, shell: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, text: Buffer.concat(chunks).toString('utf8').trimEnd() }));
  });
}

function readJson(file: string): unknown {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new LocalDeploymentError('SynthFailed', `${file} is not valid JSON (${(error as Error).message}); fix it and try again`);
  }
}
