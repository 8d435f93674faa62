/**
 * A synthesized cloud assembly (`cdk.out`) as the playground runs it, read
 * from the assembly alone (templates, asset manifests), so that any app runs
 * locally exactly as `cdk deploy` would deploy it:
 *
 * - every agent runtime of every stack: a function marked as the runtime
 *   (RUNTIME_FUNCTION_METADATA), its AGENT_CONFIG as CloudFormation would
 *   resolve it, its code asset's directory (the bundled agent, instructions,
 *   Lambda tool specs);
 * - each of its Lambda tools: the function AGENT_TOOL_FUNCTIONS names, its
 *   bundled handler file, environment and timeout;
 * - the Route 53 records (which jurisdictions keep their located callers);
 * - the dashboards and alarms, for the dashboard preview.
 *
 *   const playground = await Playground.start({ ...readLocalDeployment('cdk.out'), port: 0 });
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MCP_URLS_ENV_VAR, RUNTIME_FUNCTION_METADATA, TOOL_FUNCTIONS_ENV_VAR } from '../../lambda/agent/agent/asset-layout';
import { CONFIG_ENV_VAR, type RuntimeConfigInput } from '../../lambda/agent/config';
import { PREBUNDLED_FILE } from '../../lib/runtime/runtime-bundle';
import { readMonitoring } from '../cloudwatch/synthesized';
import type { LambdaToolFunction, McpServerFunction, PlaygroundOptions, RegionAgent } from '../playground';
import { functionUrlOf, readAssemblyStacks, resolveIn, type AssemblyStack, type TemplateResource } from './assembly-stacks';
import { LocalDeploymentError } from './errors';
import { jurisdictionsKeepingLocatedUsers, readRouting, type LocalRouting } from './routing';

export { LocalDeploymentError, type LocalDeploymentErrorCode } from './errors';
export type { LocalRouting, RoutingRecord, GeolocationRoute } from './routing';

/** Lambda's default function timeout. */
const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3;
/** The file extensions Lambda's Node.js runtime loads a handler module from, in its order. */
const HANDLER_EXTENSIONS = ['.js', '.mjs', '.cjs'];

export interface LocalRuntime {
  readonly stackName: string;
  readonly logicalId: string;
  readonly region: string;
  readonly jurisdiction: string;
  /** AGENT_CONFIG, as CloudFormation would give it to the function. */
  readonly config: RuntimeConfigInput;
  /** The function's code asset in the assembly. */
  readonly codeDirectory: string;
  readonly lambdaTools: readonly LambdaToolFunction[];
  /** The MCP servers the app deploys as functions behind function URLs (AGENT_MCP_URLS), which the playground serves. */
  readonly mcpServers: readonly McpServerFunction[];
}

export interface LocalDeployment extends Required<Pick<PlaygroundOptions, 'configs' | 'keepLocatedUsers' | 'agents' | 'monitoring' | 'healthChecks'>> {
  readonly assemblyDirectory: string;
  readonly runtimes: readonly LocalRuntime[];
  /** The conversation table of each jurisdiction, by jurisdiction. */
  readonly tables: Readonly<Record<string, string>>;
  readonly routing: LocalRouting;
}

export function readLocalDeployment(assemblyDirectory: string): LocalDeployment {
  const directory = path.resolve(assemblyDirectory);
  const { assembly, stacks } = readAssemblyStacks(directory);
  const runtimes = stacks.flatMap((stack) => runtimesOf(stack, stacks));
  if (runtimes.length === 0) {
    throw new LocalDeploymentError(
      'NoAgentRuntime',
      `no agent runtime in the cloud assembly at ${directory}: looked in ${stacks.length} stack(s) (${stacks.map((stack) => stack.stackName).join(', ') || 'none'}) ` +
        `for a Lambda function marked '${RUNTIME_FUNCTION_METADATA.key}: ${RUNTIME_FUNCTION_METADATA.value}' with ${CONFIG_ENV_VAR} in its environment, which AgentRuntime ` +
        '(and MultiRegionAgent, which composes it) creates; add one to the app, or point --assembly at the cdk.out of the app that has one',
    );
  }
  assertOneRuntimePerRegion(runtimes);
  const jurisdictionOf = (region: string) => runtimes.find((runtime) => runtime.region === region)?.jurisdiction;
  const routing = readRouting(stacks, jurisdictionOf);
  const agents: Record<string, RegionAgent> = {};
  for (const runtime of runtimes)
    agents[runtime.region] = { codeDirectory: runtime.codeDirectory, lambdaTools: runtime.lambdaTools, mcpServers: runtime.mcpServers };
  return {
    assemblyDirectory: directory,
    runtimes,
    configs: runtimes.map((runtime) => runtime.config),
    agents,
    keepLocatedUsers: jurisdictionsKeepingLocatedUsers(routing),
    tables: Object.fromEntries(runtimes.map((runtime) => [runtime.jurisdiction, runtime.config.table.name])),
    routing,
    healthChecks: routing.healthChecks,
    monitoring: () => readMonitoring(assembly),
  };
}

function runtimesOf(stack: AssemblyStack, stacks: readonly AssemblyStack[]): LocalRuntime[] {
  return Object.entries(stack.template.Resources ?? {})
    .filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Metadata?.[RUNTIME_FUNCTION_METADATA.key] === RUNTIME_FUNCTION_METADATA.value,
    )
    .map(([logicalId, resource]) => {
      const where = `${stack.stackName}/${logicalId}`;
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      if (variables[CONFIG_ENV_VAR] === undefined)
        throw new LocalDeploymentError('StackUnreadable', `${where}: the agent runtime's function has no ${CONFIG_ENV_VAR}; synthesize the app again`);
      const config = JSON.parse(String(resolveIn(stack, variables[CONFIG_ENV_VAR], `${where}.${CONFIG_ENV_VAR}`))) as RuntimeConfigInput;
      const codeDirectory = codeOf(stack, logicalId, resource, 'the agent runtime');
      if (!fs.existsSync(path.join(codeDirectory, PREBUNDLED_FILE))) throw notBundled(`the agent runtime ${where}`, codeDirectory, PREBUNDLED_FILE);
      const toolArns =
        variables[TOOL_FUNCTIONS_ENV_VAR] === undefined
          ? {}
          : (JSON.parse(String(resolveIn(stack, variables[TOOL_FUNCTIONS_ENV_VAR], `${where}.${TOOL_FUNCTIONS_ENV_VAR}`))) as Record<string, string>);
      const mcpUrls =
        variables[MCP_URLS_ENV_VAR] === undefined
          ? {}
          : (JSON.parse(String(resolveIn(stack, variables[MCP_URLS_ENV_VAR], `${where}.${MCP_URLS_ENV_VAR}`))) as Record<string, string>);
      return {
        stackName: stack.stackName,
        logicalId,
        region: stack.region,
        jurisdiction: config.jurisdiction.name,
        config,
        codeDirectory,
        lambdaTools: Object.entries(toolArns).map(([tool, arn]) => toolFunction(tool, arn, where, stacks)),
        mcpServers: Object.entries(mcpUrls).flatMap(([server, url]) => mcpServerFunction(server, url, where, stacks)),
      };
    });
}

/** The function behind the function URL an MCP server's address names, if the app deploys it (else the runtime calls the URL as it is). */
function mcpServerFunction(server: string, url: string, runtime: string, stacks: readonly AssemblyStack[]): McpServerFunction[] {
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Url' || functionUrlOf(logicalId, stack.region) !== url) continue;
      const functionArn = String(resolveIn(stack, resource.Properties?.TargetFunctionArn, `${stack.stackName}/${logicalId}.TargetFunctionArn`));
      return [{ url, function: toolFunction(server, functionArn, runtime, stacks) }];
    }
  }
  return [];
}

/** The Lambda tool whose function has this ARN: a function of some stack of the assembly, its local ARN resolved as the runtime's environment was. */
function toolFunction(tool: string, functionArn: string, runtime: string, stacks: readonly AssemblyStack[]): LambdaToolFunction {
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function' || stack.env.references?.getAtt(logicalId, 'Arn') !== functionArn) continue;
      const where = `${stack.stackName}/${logicalId}`;
      const properties = resource.Properties ?? {};
      const handler = String(resolveIn(stack, properties.Handler ?? 'index.handler', `${where}.Handler`));
      const separator = handler.lastIndexOf('.');
      const [modulePath, exportName] = [handler.slice(0, separator), handler.slice(separator + 1)];
      const codeDirectory = codeOf(stack, logicalId, resource, `Lambda tool '${tool}'`);
      const file = HANDLER_EXTENSIONS.map((extension) => path.join(codeDirectory, `${modulePath}${extension}`)).find((candidate) => fs.existsSync(candidate));
      if (!file) throw notBundled(`Lambda tool '${tool}' (${where}, handler ${handler})`, codeDirectory, `${modulePath}.js, .mjs or .cjs`);
      const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      const environment = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, String(resolveIn(stack, value, `${where}.Environment.${name}`))]),
      );
      return {
        name: tool,
        functionArn,
        source: where,
        file,
        exportName,
        environment,
        timeoutMs: Number(resolveIn(stack, properties.Timeout ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS, `${where}.Timeout`)) * 1000,
      };
    }
  }
  throw new LocalDeploymentError(
    'ToolUnloadable',
    `Lambda tool '${tool}' of the agent runtime ${runtime} is the function ${functionArn}, which no stack of the assembly defines; ` +
      'the playground runs only the functions the app deploys: define the tool function in the app (AgentTool.fromFunction of a lambda.Function or NodejsFunction)',
  );
}

/** The directory of the function's code asset in the assembly. */
function codeOf(stack: AssemblyStack, logicalId: string, resource: TemplateResource, what: string): string {
  const where = `${stack.stackName}/${logicalId}`;
  const code = (resource.Properties?.Code ?? {}) as { S3Key?: unknown; ZipFile?: unknown };
  const objectKey = typeof code.S3Key === 'string' ? code.S3Key : undefined;
  const assetPath = resource.Metadata?.['aws:asset:path'];
  // The asset manifest names the asset by its S3 key; the resource's metadata (when asset metadata is on) by its path.
  const directory =
    (objectKey && stack.assets.get(objectKey)) || (typeof assetPath === 'string' ? path.resolve(stack.assemblyDirectory, assetPath) : undefined);
  if (!directory) {
    throw new LocalDeploymentError(
      'AssetMissing',
      `${what} (${where}) has no code asset in the assembly (${code.ZipFile !== undefined ? 'its code is inline' : 'its Code names no asset of the stack'}); give the function its code with lambda.Code.fromAsset or NodejsFunction`,
    );
  }
  if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
    throw new LocalDeploymentError(
      'AssetMissing',
      `${what} (${where}): its code asset ${directory} is not in the assembly (a partial or cleaned cdk.out); synthesize the app again (\`npx cdk synth\`)`,
    );
  }
  return directory;
}

function notBundled(what: string, directory: string, expected: string): LocalDeploymentError {
  return new LocalDeploymentError(
    'AssetNotBundled',
    `${what}: its code asset ${directory} has no ${expected}, so the app was synthesized with bundling skipped ` +
      "(`cdk synth --exclusively`, `cdk watch` of other stacks, or the 'aws:cdk:bundling-stacks' context); synthesize every stack with bundling (`npx cdk synth`, or let `agentctl local` synthesize)",
  );
}

function assertOneRuntimePerRegion(runtimes: readonly LocalRuntime[]): void {
  const seen = new Map<string, LocalRuntime>();
  for (const runtime of runtimes) {
    const other = seen.get(runtime.region);
    if (other) {
      throw new LocalDeploymentError(
        'RegionTwice',
        `two agent runtimes in ${runtime.region} (${other.stackName}/${other.logicalId} and ${runtime.stackName}/${runtime.logicalId}): the playground runs one runtime per region; ` +
          'synthesize an app (or a stage of it) with one agent, and point --assembly at its cloud assembly',
      );
    }
    seen.set(runtime.region, runtime);
  }
}
