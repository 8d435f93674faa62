import * as childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync, type BuildFailure } from 'esbuild';
import type { IConstruct } from 'constructs';
import { AgentAsset } from '../../lambda/agent/agent/asset-layout';
import { AGENT_KIND, type AgentManifest } from '../../lambda/agent/agent/definition';
import { stageDirectory } from '../runtime/code-staging';
import { MultiRegionAgentError } from '../errors';
import { runtimeBuildOptions, runtimeCodeSource } from '../runtime/runtime-bundle';

/** The name a user's entry imports the agent contract by. */
const AGENT_PACKAGE = 'cdk-multi-region-agent/agent';

/** How long importing the bundled entry may take at synthesis. */
const IMPORT_TIMEOUT_MS = 30_000;

/** esbuild loaders an entry may use for other file types: each makes the import a value of the bundle, with no file beside it. */
export type AgentCodeLoader = 'text' | 'json' | 'base64' | 'dataurl' | 'binary';

/** How {@link AgentCode.fromEntry} bundles the agent's entry file. */
export interface AgentCodeOptions {
  /**
   * How imports of other file types are bundled, by extension
   * (`{ '.sql': 'text' }`), beside the defaults.
   * @default - `.md` and `.txt` as their UTF-8 text
   */
  readonly loader?: Readonly<Record<string, AgentCodeLoader>>;
  /**
   * Identifiers replaced at bundling, as esbuild's `define`: each value is a
   * JavaScript expression (`{ 'process.env.STAGE': '"prod"' }`).
   * @default - none
   */
  readonly define?: Readonly<Record<string, string>>;
  /**
   * The tsconfig.json esbuild reads (`paths`, JSX settings).
   * @default - the nearest tsconfig.json above each file
   */
  readonly tsconfig?: string;
}

/** A bundled and validated agent entry. */
export interface AgentCodeConfig {
  /** The entry file, as an absolute path. */
  readonly entry: string;
  /** The bundle (ESM), which the runtime's asset holds as `agent.mjs`. */
  readonly bundle: Uint8Array;
  /** What the entry's definition declares, read by importing the bundle. */
  readonly manifest: AgentManifest;
}

/**
 * The user's agent: a TypeScript (or JavaScript) entry file that ends with
 * `export default defineAgent({ instructions, tools, maxSteps })`, with
 * `defineAgent` from `cdk-multi-region-agent/agent`.
 *
 * At synthesis the entry is bundled with esbuild (minified ESM for Node.js
 * 22+, its dependencies resolved from its own directory upward, `.md` and
 * `.txt` imported as text) and then imported in a child Node.js process to
 * read and check its definition: bad tool names or schemas fail synthesis
 * rather than the function's cold start. Both happen even in stacks whose
 * bundling is skipped, and once per process for the same sources, however
 * many regions run the agent.
 *
 * Note: the entry's top level runs at synthesis, without AWS credentials:
 * create clients and connections inside tools, not when the module loads.
 */
export class AgentCode {
  /** The agent of the entry file at `entry`. */
  static fromEntry(entry: string, options: AgentCodeOptions = {}): AgentCode {
    const file = path.resolve(entry);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new MultiRegionAgentError(
        'AgentEntryNotFound',
        `AgentCode.fromEntry: ${file} is not a file; give the path of your agent's entry, e.g. path.join(__dirname, 'agent.ts')`,
      );
    }
    return new AgentCode(file, options);
  }

  private constructor(
    /** The entry file, as an absolute path. */
    readonly entry: string,
    private readonly options: AgentCodeOptions,
  ) {}

  /**
   * Bundles the entry and reads its definition, or reuses what this process
   * made of the same sources and options. Errors are `MultiRegionAgentError`s
   * naming `scope`, the entry and, from `defineAgent`, the tool and field.
   */
  bind(scope: IConstruct): AgentCodeConfig {
    const key = JSON.stringify({ entry: this.entry, options: this.options });
    const cached = cache.get(key);
    if (cached && unchanged(cached.inputs)) return cached.config;
    const { bundle, inputs } = this.bundle(scope);
    const config = { entry: this.entry, bundle, manifest: readManifest(scope, this.entry, bundle) };
    cache.set(key, { inputs, config });
    return config;
  }

  private bundle(scope: IConstruct): { bundle: Uint8Array; inputs: Record<string, string> } {
    const source = runtimeCodeSource();
    const workingDirectory = path.dirname(this.entry);
    let result;
    try {
      result = buildSync({
        ...runtimeBuildOptions(),
        entryPoints: [this.entry],
        outfile: AgentAsset.agentModule,
        write: false,
        metafile: true,
        absWorkingDir: workingDirectory,
        loader: { '.md': 'text', '.txt': 'text', ...this.options.loader },
        define: this.options.define ? { ...this.options.define } : undefined,
        tsconfig: this.options.tsconfig ? path.resolve(this.options.tsconfig) : undefined,
        // In this repository the package name is ours: its sources, imported as a user would import the package.
        alias: source.kind === 'source' ? { [AGENT_PACKAGE]: source.agentModule } : undefined,
      });
    } catch (error) {
      const messages = ((error as BuildFailure).errors ?? []).map(
        (message) => `${message.location ? `${message.location.file}:${message.location.line}:${message.location.column}: ` : ''}${message.text}`,
      );
      throw new MultiRegionAgentError(
        'AgentBundlingFailed',
        `agent: bundling ${this.entry} failed: ${messages.length > 0 ? messages.join('; ') : (error as Error).message}`,
        scope,
      );
    }
    const files = Object.keys(result.metafile.inputs)
      .map((input) => path.resolve(workingDirectory, input))
      .filter((file) => fs.existsSync(file));
    return { bundle: result.outputFiles[0].contents, inputs: Object.fromEntries(files.map((file) => [file, fileHash(file)])) };
  }
}

/** Bundled entries by entry and options, with the hash of every file that went into each. */
const cache = new Map<string, { inputs: Record<string, string>; config: AgentCodeConfig }>();

function unchanged(inputs: Record<string, string>): boolean {
  return Object.entries(inputs).every(([file, hash]) => fs.existsSync(file) && fileHash(file) === hash);
}

function fileHash(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Runs in a child Node.js process: imports the bundle and reports, on file
 * descriptor 3 (the entry may write to stdout), the definition's manifest,
 * the module's exports when none is a definition, or what it threw. The
 * candidates are those the runtime accepts (`agentOf` in definition.ts).
 */
const READ_MANIFEST_SCRIPT = `
const { writeSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const [kind, file] = process.argv.slice(1);
const report = (outcome) => { writeSync(3, JSON.stringify(outcome)); process.exit(0); };
const isAgent = (value) => typeof value === 'object' && value !== null && typeof value.kind === 'string' && typeof value.manifest === 'function';
const thrown = (error) => report({ status: 'threw', name: error instanceof Error ? error.name : typeof error, message: error instanceof Error ? error.message : String(error) });
import(pathToFileURL(file).href)
  .then((module) => {
    const candidates = [module.default, module.agent, module.default ? module.default.default : undefined];
    const agent = candidates.find((value) => isAgent(value) && value.kind === kind);
    if (agent) return report({ status: 'ok', manifest: agent.manifest() });
    const other = candidates.find(isAgent);
    report({ status: 'no-agent', exports: Object.keys(module), otherKind: other ? other.kind : undefined });
  }, thrown)
  .catch(thrown);
`;

type Outcome =
  | { status: 'ok'; manifest: AgentManifest }
  | { status: 'no-agent'; exports: string[]; otherKind?: string }
  | { status: 'threw'; name: string; message: string };

function readManifest(scope: IConstruct, entry: string, bundle: Uint8Array): AgentManifest {
  const file = path.join(stageDirectory({ [AgentAsset.agentModule]: bundle }), AgentAsset.agentModule);
  const child = childProcess.spawnSync(process.execPath, ['-e', READ_MANIFEST_SCRIPT, AGENT_KIND, file], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: IMPORT_TIMEOUT_MS,
  });
  const fail = (code: string, message: string) => new MultiRegionAgentError(code, `agent: ${entry}: ${message}`, scope);
  const reported = child.output?.[3];
  if (!reported) {
    if (child.error) throw fail('AgentEntryFailed', `importing the bundled entry did not finish within ${IMPORT_TIMEOUT_MS / 1000} s (${child.error.message})`);
    throw fail(
      'AgentEntryFailed',
      `importing the bundled entry ended the process (exit ${child.status ?? child.signal}): ${String(child.stderr).trim().slice(-500)}`,
    );
  }
  const outcome = JSON.parse(reported) as Outcome;
  if (outcome.status === 'ok') return outcome.manifest;
  if (outcome.status === 'threw' && outcome.name === 'AgentDefinitionError') throw fail('InvalidAgentDefinition', outcome.message);
  if (outcome.status === 'threw') {
    throw fail(
      'AgentEntryFailed',
      `importing it threw ${outcome.name}: ${outcome.message} (the entry is imported at synthesis to read its definition: create clients and connections inside tools, not when the module loads)`,
    );
  }
  if (outcome.otherKind) {
    throw fail(
      'AgentVersionMismatch',
      `exports a definition of ${outcome.otherKind}, and this version of the constructs reads ${AGENT_KIND}: install the same version of cdk-multi-region-agent for both`,
    );
  }
  throw fail(
    'AgentNotExported',
    `does not export an agent (its exports: ${outcome.exports.join(', ') || 'none'}); end it with \`export default defineAgent({ instructions, tools })\`, defineAgent imported from '${AGENT_PACKAGE}'`,
  );
}
