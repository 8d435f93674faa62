import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONFIG_ENV_VAR, validateRuntimeConfig, type RuntimeConfigInput } from '../../lambda/agent/config';
import { AgentAsset, MCP_URLS_ENV_VAR, RUNTIME_FUNCTION_METADATA, TOOL_FUNCTIONS_ENV_VAR, type LambdaToolSpec } from '../../lambda/agent/agent/asset-layout';
import { DEFAULT_TOOL_TIMEOUT_MS, type AgentManifest } from '../../lambda/agent/agent/definition';
import type { AgentCode, AgentCodeConfig } from '../agent/agent-code';
import type { AgentInstructions } from '../agent/agent-instructions';
import { AgentTool, type AgentToolSource } from '../agent/agent-tool';
import { McpServerTool } from '../agent/mcp-server-tool';
import { MultiRegionAgentError } from '../errors';
import type { Jurisdiction } from '../governance/jurisdiction';
import { LogEncryption } from '../governance/log-encryption';
import { stageDirectory } from './code-staging';
import { RUNTIME_HANDLER, runtimeHandler } from './runtime-bundle';

/** Lambda allows 4 KB of environment variables in total. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** Kept free for what Lambda itself counts against the limit. */
const ENVIRONMENT_HEADROOM_BYTES = 256;
/** A long Lambda function ARN (partition, region and a 64-character name), for ARNs that are tokens at synthesis. */
const FUNCTION_ARN_BYTES = 140;

/** Properties of an {@link AgentFunction}: the runtime's configuration, the agent's files and the function's settings. */
export interface AgentFunctionProps {
  /** The jurisdiction of the region: named in the role's and the function's descriptions. */
  readonly jurisdiction: Jurisdiction;
  /** The region the function runs in: named in the descriptions. */
  readonly region: string;
  /** The runtime's configuration, given to the function as `AGENT_CONFIG` (validated by the caller). */
  readonly runtimeConfig: RuntimeConfigInput;
  /**
   * The user's agent, bundled into the code asset as `agent.mjs` and
   * validated at synthesis.
   * @default - no code: the runtime answers with its instructions alone
   */
  readonly agent?: AgentCode;
  /**
   * Instructions given to the construct rather than in the agent's code,
   * written into the code asset as `instructions.md`.
   *
   * Note: an agent whose code defines instructions cannot be given these too.
   * @default - the instructions of the agent's code, or none
   */
  readonly instructions?: AgentInstructions;
  /**
   * Tools that are Lambda functions, listed in the code asset's
   * `lambda-tools.json`, their ARNs in `AGENT_TOOL_FUNCTIONS`, and each
   * function invocable by the role (`lambda:InvokeFunction` on exactly their ARNs);
   * and MCP servers, listed in `mcp-servers.json`, the role granted exactly
   * what each one's authentication needs.
   *
   * Note: each function must run in a region of `jurisdiction` (tool inputs
   * carry the conversation's data), each MCP server in one of a restricted
   * jurisdiction's, and tool names must be unique among these and the tools
   * of the agent's code, where synthesis can know them.
   * @default - none
   */
  readonly tools?: readonly AgentToolSource[];
  /**
   * Memory of the function. Answers are I/O-bound; 1024 MB buys the CPU that
   * keeps cold starts and SDK (de)serialization short.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Function timeout; it bounds one streamed answer.
   *
   * Note: less the runtime's `deadlines.reserveMs`, it must hold the loop's
   * `deadlines.totalBudgetMs` and every tool's timeout.
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;
  /**
   * Concurrent executions reserved for the function.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How long the function's log group keeps its records. A year is what AWS
   * Control Tower's proactive control CT.CLOUDWATCH.PR.2 asks for.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How the function's log group is encrypted at rest.
   * @default LogEncryption.kms() - a new KMS key (`LogKey`) for this function's log group
   */
  readonly logEncryption?: LogEncryption;
}

/**
 * The agent runtime's Lambda function: Node.js 24 on arm64, a code asset of
 * its own holding the runtime's handler (bundled here by esbuild, or
 * prebundled in the published package) and the agent's files (its bundled
 * code, instructions, Lambda tools), its own log group, and a role that may
 * write only to that log group and invoke only its Lambda tools. Other
 * grants (Bedrock, the table) are added by whoever composes it.
 */
export class AgentFunction extends Construct {
  /** The runtime's Lambda function. */
  readonly function: lambda.Function;
  /** The function's execution role. */
  readonly role: iam.IRole;
  /** The function's own log group. */
  readonly logGroup: logs.ILogGroup;
  /**
   * The directory the function's code asset is made of: the runtime's
   * handler (`index.mjs`) and the agent's files beside it. Without the
   * handler in a stack whose bundling is skipped.
   */
  readonly codeDirectory: string;
  /** What the agent's code declares, when it was given. */
  readonly agentManifest?: AgentManifest;
  /** The tools that are Lambda functions. */
  readonly lambdaTools: readonly AgentTool[];
  /** The MCP servers whose tools the agent uses. */
  readonly mcpServers: readonly McpServerTool[];

  constructor(scope: Construct, id: string, props: AgentFunctionProps) {
    super(scope, id);
    const where = `${props.jurisdiction.name}, ${props.region}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: (props.logEncryption ?? LogEncryption.kms()).keyFor(this, 'LogKey'),
    });
    // Our own role: writing to its one log group, instead of the managed basic-execution policy for every group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Agent runtime (${where})`,
      inlinePolicies: {
        Logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] })],
        }),
      },
    });
    const agent = props.agent?.bind(this);
    this.agentManifest = agent?.manifest;
    if (agent) this.assertInstructionsOnce(agent, props.instructions);
    this.lambdaTools = (props.tools ?? []).filter((tool): tool is AgentTool => tool instanceof AgentTool);
    this.mcpServers = (props.tools ?? []).filter((tool): tool is McpServerTool => tool instanceof McpServerTool);
    this.assertToolsAllowed(props, agent?.manifest);
    this.assertMcpServersAllowed(props, agent?.manifest);
    const toolSpecs = this.lambdaTools.map((tool) => tool.specFor(agent?.manifest.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS));
    const mcpSpecs = this.mcpServers.map((server) => server.specIn(this));
    const timeout = props.timeout ?? Duration.minutes(2);
    this.assertFitsTimeout(props.runtimeConfig, timeout, [
      ...(agent?.manifest.tools ?? []),
      ...toolSpecs,
      ...mcpSpecs.map((spec) => ({ name: `of MCP server ${spec.name}`, timeoutMs: spec.timeoutMs })),
    ]);
    const toolFunctions = Object.fromEntries(this.lambdaTools.map((tool) => [tool.name, tool.function.functionArn]));
    const mcpUrls = Object.fromEntries(this.mcpServers.filter((server) => Token.isUnresolved(server.url)).map((server) => [server.name, server.url]));
    const environment: Record<string, string> = { [CONFIG_ENV_VAR]: JSON.stringify(props.runtimeConfig) };
    // ARNs (and function URLs) are known at deployment only: CloudFormation resolves them inside the JSON.
    if (this.lambdaTools.length > 0) environment[TOOL_FUNCTIONS_ENV_VAR] = Stack.of(this).toJsonString(toolFunctions);
    if (Object.keys(mcpUrls).length > 0) environment[MCP_URLS_ENV_VAR] = Stack.of(this).toJsonString(mcpUrls);
    this.assertEnvironmentFits(environment, { ...toolFunctions, ...mcpUrls });
    // Stacks whose bundling is skipped (`aws:cdk:bundling-stacks`) are not deployed: their asset goes without the handler.
    this.codeDirectory = stageDirectory({
      ...(Stack.of(this).bundlingRequired ? runtimeHandler() : {}),
      ...(agent ? { [AgentAsset.agentModule]: agent.bundle } : {}),
      ...(props.instructions ? { [AgentAsset.instructions]: props.instructions.text } : {}),
      ...(toolSpecs.length > 0 ? { [AgentAsset.lambdaTools]: JSON.stringify(toolSpecs, null, 2) } : {}),
      ...(mcpSpecs.length > 0 ? { [AgentAsset.mcpServers]: JSON.stringify(mcpSpecs, null, 2) } : {}),
    });
    // 'Default' keeps the function's logical id what it was when AgentRuntime created it directly.
    this.function = new lambda.Function(this, 'Default', {
      role: this.role,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup: this.logGroup,
      environment,
      description: `Multi-region agent runtime (${where})`,
      code: lambda.Code.fromAsset(this.codeDirectory),
      handler: RUNTIME_HANDLER,
    });
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(RUNTIME_FUNCTION_METADATA.key, RUNTIME_FUNCTION_METADATA.value);
    if (this.lambdaTools.length > 0) this.grantToolFunctions();
    this.mcpServers.forEach((server, index) => server.grant(this.role, index + 1));
  }

  /** Exactly lambda:InvokeFunction on exactly the tools' functions (grantInvoke would add every version and alias, `<arn>:*`). */
  private grantToolFunctions(): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeToolFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: [...new Set(this.lambdaTools.map((tool) => tool.function.functionArn))],
      }),
    );
  }

  private assertInstructionsOnce(agent: AgentCodeConfig, instructions: AgentInstructions | undefined): void {
    if (agent.manifest.instructionsBytes === 0 || !instructions) return;
    throw new MultiRegionAgentError(
      'InstructionsGivenTwice',
      `instructions: the agent's code (${agent.entry}) defines ${agent.manifest.instructionsBytes} bytes of instructions, and the construct was given ${Buffer.byteLength(instructions.text)} bytes more (instructions, or settings.inference.systemPrompt); give them in one place`,
      this,
    );
  }

  /** Unique tool names, and every tool function in the jurisdiction: its inputs carry the conversation's data. */
  private assertToolsAllowed(props: AgentFunctionProps, manifest: AgentManifest | undefined): void {
    const seen = new Set<string>();
    for (const tool of this.lambdaTools) {
      if (seen.has(tool.name)) throw new MultiRegionAgentError('DuplicateToolName', `tools: two Lambda tools are named '${tool.name}'`, this);
      seen.add(tool.name);
      if (manifest?.tools.some((codeTool) => codeTool.name === tool.name)) {
        throw new MultiRegionAgentError(
          'DuplicateToolName',
          `tools: '${tool.name}' names both a tool of the agent's code and a Lambda tool (${tool.function.node.path}); rename one`,
          this,
        );
      }
      const region = tool.function.env.region;
      if (Token.isUnresolved(region)) {
        throw new MultiRegionAgentError(
          'ToolRegionUnknown',
          `tools: the region of tool '${tool.name}' (${tool.function.node.path}) is not known at synthesis, so its residency cannot be checked; ` +
            'define its function in a stack with an explicit env.region, or import it by a literal ARN (lambda.Function.fromFunctionArn)',
          this,
        );
      }
      if (!props.jurisdiction.includes(region)) {
        throw new MultiRegionAgentError(
          'ToolOutsideJurisdiction',
          `tools: tool '${tool.name}' runs in ${region}, outside jurisdiction '${props.jurisdiction.name}' (${props.jurisdiction.regions.join(', ')}); ` +
            "tool inputs carry the conversation's data: deploy its function in one of the jurisdiction's regions",
          this,
        );
      }
    }
  }

  /**
   * Each MCP server in the jurisdiction (when restricted), and no tool name two tools could have:
   * servers with the same prefix whose tools synthesis cannot list, or names an include list
   * shares with another server, a Lambda tool or a tool of the agent's code.
   */
  private assertMcpServersAllowed(props: AgentFunctionProps, manifest: AgentManifest | undefined): void {
    const owners = new Map<string, string>([
      ...(manifest?.tools ?? []).map((tool): [string, string] => [tool.name, `a tool of the agent's code`]),
      ...this.lambdaTools.map((tool): [string, string] => [tool.name, `Lambda tool ${tool.function.node.path}`]),
    ]);
    this.mcpServers.forEach((server, index) => {
      server.assertAllowedIn(props.jurisdiction, this);
      const unlisted = this.mcpServers.slice(0, index).find((other) => other.prefix === server.prefix && (!other.knownToolNames || !server.knownToolNames));
      if (unlisted) {
        throw new MultiRegionAgentError(
          'DuplicateToolName',
          `tools: MCP servers '${unlisted.name}' and '${server.name}' have the same prefix ('${server.prefix}') and their tools could clash; give one a prefix, or both include lists`,
          this,
        );
      }
      for (const name of server.knownToolNames ?? []) {
        const owner = owners.get(name);
        if (owner)
          throw new MultiRegionAgentError(
            'DuplicateToolName',
            `tools: '${name}' names both ${owner} and a tool of MCP server '${server.name}'; rename one, or give the server a prefix`,
            this,
          );
        owners.set(name, `a tool of MCP server '${server.name}'`);
      }
    });
  }

  /**
   * The request's budget and each tool's timeout must fit in the function's timeout (which AgentRuntime gives
   * the streaming integration too) less the reserve the runtime keeps for the last write: longer, they
   * promise what the function is stopped before giving (a tool silently cut, a loop ended early).
   */
  private assertFitsTimeout(runtimeConfig: RuntimeConfigInput, timeout: Duration, tools: ReadonlyArray<Pick<LambdaToolSpec, 'name' | 'timeoutMs'>>): void {
    const { totalBudgetMs, reserveMs } = validateRuntimeConfig(runtimeConfig).deadlines;
    const timeoutMs = timeout.toMilliseconds();
    const allowedMs = timeoutMs - reserveMs;
    const limit = `the timeout (${timeoutMs} ms, the function's and the streaming integration's) less deadlines.reserveMs (${reserveMs} ms) allows ${allowedMs} ms`;
    if (totalBudgetMs > allowedMs) {
      throw new MultiRegionAgentError(
        'BudgetBeyondTimeout',
        `settings.deadlines.totalBudgetMs (${totalBudgetMs} ms) is longer than ${limit}; raise timeout or lower the budget`,
        this,
      );
    }
    const tool = tools.find((candidate) => candidate.timeoutMs > allowedMs);
    if (tool) {
      throw new MultiRegionAgentError(
        'ToolTimeoutBeyondTimeout',
        `tool '${tool.name}' has a timeout of ${tool.timeoutMs} ms, longer than ${limit}; raise timeout or lower the tool's`,
        this,
      );
    }
  }

  /** Instructions and tool specifications are files of the asset; what is left must fit Lambda's 4 KB of environment. */
  private assertEnvironmentFits(environment: Record<string, string>, toolFunctions: Record<string, string>): void {
    // A tool's ARN is a token until deployment: counted at the length of a long function ARN.
    const toolFunctionsBytes = Buffer.byteLength(
      JSON.stringify(Object.fromEntries(Object.keys(toolFunctions).map((name) => [name, 'x'.repeat(FUNCTION_ARN_BYTES)]))),
    );
    const sizes = Object.entries(environment).map(
      ([name, value]) => Buffer.byteLength(name) + (name === TOOL_FUNCTIONS_ENV_VAR ? toolFunctionsBytes : Buffer.byteLength(value)),
    );
    const size = sizes.reduce((sum, bytes) => sum + bytes, 0);
    if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES - ENVIRONMENT_HEADROOM_BYTES) {
      throw new MultiRegionAgentError(
        'ConfigTooLarge',
        `the runtime configuration and tool ARNs take ${size} bytes of Lambda's 4 KB environment; shorten the chain or jurisdictionHosts, or use fewer Lambda tools`,
        this,
      );
    }
  }
}
