import { Aspects, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { AgentManifest } from '../../lambda/agent/agent/definition';
import { ON_BEHALF_CALLERS_ENV_VAR, validateRuntimeConfig, type RuntimeConfigInput } from '../../lambda/agent/config';
import type { AgentCode } from '../agent/agent-code';
import { AgentInstructions } from '../agent/agent-instructions';
import type { AgentTool, AgentToolSource } from '../agent/agent-tool';
import type { McpServerTool } from '../agent/mcp-server-tool';
import { AgentApi, type AgentAuthorization, type AgentThrottling } from './agent-api';
import { AgentDomainNames, type AgentDomains } from '../routing/agent-domain-names';
import { AgentFunction } from './agent-function';
import { AgentMetrics } from '../observability/agent-metrics';
import { grantBedrockTargets } from '../chain/bedrock-grants';
import { ConversationTable, type IConversationTable } from '../state/conversation-table';
import { assertDeployedAfterTable, orderAfterApiGatewayAccount } from './deployment-order';
import { MultiRegionAgentError, withConstructPath } from '../errors';
import type { Jurisdiction } from '../governance/jurisdiction';
import { LogEncryption } from '../governance/log-encryption';
import type { ModelChain, ResolvedProviderTarget, ResolvedTarget } from '../chain/model-chain';
import { ProviderKeys } from '../providers/provider-keys';
import { TargetHealthTable } from '../health/target-health-table';
import { TargetProbe, type TargetProbeOptions } from '../health/target-probe';

/**
 * Runtime settings passed through to the configuration (see docs/http-api.md, Configuration).
 *
 * Note: `inference.systemPrompt` is written into the code asset as
 * `instructions.md` (as `instructions: AgentInstructions.fromText(...)` is),
 * not into the configuration; prefer `instructions` or the agent's code.
 */
export type AgentRuntimeSettings = Pick<RuntimeConfigInput, 'deadlines' | 'breaker' | 'retryBudget' | 'hedge' | 'latencySamples' | 'inference' | 'limits'> & {
  /** @default false */
  readonly logMessageText?: boolean;
  /** @default 20 */
  readonly historyTurns?: number;
  /** The most UTF-8 bytes of past exchanges sent with each message; older exchanges are left out first. @default 200000 */
  readonly historyBytes?: number;
  /** @default 30 */
  readonly ttlDays?: number;
  /** How often each environment reads the region's shared target health, in ms (1000 to 60000). @default 3000 */
  readonly sharedHealthRefreshMs?: number;
};

/** Properties of an {@link AgentRuntime}: the region and its jurisdiction, the fallback chain, the agent, the table, and the function's and API's settings. */
export interface AgentRuntimeProps {
  /** The jurisdiction this region belongs to; the stack's region must be one of its regions. */
  readonly jurisdiction: Jurisdiction;
  /** The fallback spec, expanded here into this region's targets. */
  readonly chain: ModelChain;
  /**
   * The user's agent: an entry file whose default export is
   * `defineAgent({ instructions, tools, maxSteps })`, bundled into the
   * function's code asset and validated at synthesis.
   * @default - no code: the model answers with `instructions` alone
   */
  readonly agent?: AgentCode;
  /**
   * Instructions for an agent whose code does not define them, written into
   * the code asset as `instructions.md` (of any practical size).
   *
   * Note: give instructions in one place: not with instructions in the
   * agent's code, nor with `settings.inference.systemPrompt`.
   * @default - the instructions of the agent's code, or none
   */
  readonly instructions?: AgentInstructions;
  /**
   * Tools that are Lambda functions (`AgentTool.fromFunction`) and MCP
   * servers (`AgentTool.fromMcpServer`), beside the tools of the agent's
   * code; the function's role may invoke exactly them.
   *
   * Note: each tool's function must run in a region of `jurisdiction`, each
   * MCP server in one of a restricted jurisdiction's.
   * @default - none
   */
  readonly tools?: readonly AgentToolSource[];
  /**
   * The jurisdiction's conversation table (its home-region replica is read and written).
   *
   * Note: given the `ConversationTable` construct of another stack, the
   * runtime references it by name (no cross-region reference) and makes its
   * own stack depend on the table's. Given `ConversationTable.fromJurisdiction()`
   * of a table that the app defines in another stack, synthesis refuses
   * unless the runtime's stack depends on that stack.
   */
  readonly table: IConversationTable;
  /**
   * The public DNS name of the agent, e.g. `agent.example.com`. With
   * `hostedZone`, the API answers on it, on `<jurisdiction>.<name>` and on
   * `<region>.<name>`, with an ACM certificate validated in the zone.
   * @default - no custom domain: the API's execute-api URL only
   */
  readonly recordName?: string;
  /** The hosted zone of `recordName`. @default - no custom domain */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Host of every jurisdiction, for 421 answers that name the right host.
   * @default - this jurisdiction's `<jurisdiction>.<recordName>` only
   */
  readonly jurisdictionHosts?: Record<string, string>;
  /** How callers are authorized: IAM (SigV4) or a Cognito user pool's ID tokens. @default AgentAuthorization.iam() */
  readonly authorization?: AgentAuthorization;
  /**
   * Memory of the function. Answers are I/O-bound; 1024 MB buys the CPU that
   * keeps cold starts and SDK (de)serialization short.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Function (and streaming integration) timeout; it bounds one streamed answer.
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;
  /** The function's reserved concurrency: kept for it, and the most requests it runs at once in the region. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** Throttling of the agent routes (the stage's default for each method). @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttling?: AgentThrottling;
  /**
   * Throttling of `GET` and `HEAD /health`, separate from the agent routes'.
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly healthThrottling?: AgentThrottling;
  /** Runtime settings passed through to its configuration: deadlines, breakers, inference parameters (see docs/http-api.md, Configuration). @default - the runtime's documented defaults */
  readonly settings?: AgentRuntimeSettings;
  /**
   * Share target health between the region's execution environments: a
   * breaker that opens in one is skipped by all within seconds, and only
   * the one that saw it probes it; recoveries and first-token times are
   * shared too. Creates a `TargetHealthTable` (`TargetHealth`) in this stack.
   * @default true
   */
  readonly sharedHealth?: boolean;
  /**
   * Probe every target of the chain on a schedule (`TargetProbe`, id
   * `Probe`): one minimal call each (one output token, no user data),
   * charted and alarmed per target, so that a broken fallback link is known
   * before a user needs it. `false` turns probing off.
   * @default - every minute
   */
  readonly probes?: TargetProbeOptions | false;
  /** The CloudWatch namespace of the runtime's metrics. @default 'MultiRegionAgent' */
  readonly metricsNamespace?: string;
  /**
   * How long the function's and the access logs' log groups keep their
   * records. A year is what AWS Control Tower's proactive control
   * CT.CLOUDWATCH.PR.2 asks for.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How the function's and the access logs' log groups are encrypted at rest.
   * @default LogEncryption.kms() - one new KMS key (`LogKey`) for both log groups
   */
  readonly logEncryption?: LogEncryption;
  /**
   * AWS X-Ray tracing of the API's stage (see `AgentApiProps.tracing`).
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Create the role API Gateway writes its logs with, and register it for the
   * account. That registration is one setting per account and region
   * (AWS::ApiGateway::Account): set false when another stack already makes it,
   * such as a second agent in the same account or your landing zone.
   *
   * Note: with false, the stage's access logging needs that registration to
   * exist first. When a stack of the same app, account and region makes it
   * (an `apigateway.CfnAccount`, e.g. another AgentRuntime left at true), this
   * runtime's stack is made to depend on it (synthesis refuses if that stack
   * depends on this one). When no stack of the app makes it, it is left to
   * its owner (a landing zone), which must have deployed it.
   * @default true
   */
  readonly manageApiGatewayAccount?: boolean;
}

/**
 * One region's agent runtime, composed of an `AgentFunction` (the streaming
 * Lambda function, the agent's code, instructions and Lambda tools in its
 * code asset), an `AgentApi` (its REST API: response streaming, request
 * validation, access logs, throttling, IAM or Cognito authorization,
 * `/health`) and `AgentDomainNames` (certificate and custom domains), with
 * the runtime's validated configuration and grants for exactly the Bedrock
 * targets of its chain and its jurisdiction's table.
 */
export class AgentRuntime extends Construct {
  /** The configuration given to the function as AGENT_CONFIG (also used by the local playground). */
  readonly runtimeConfig: RuntimeConfigInput;
  /** The runtime's Lambda function. */
  readonly function: lambda.Function;
  /** The directory of the function's code asset (see `AgentFunction.codeDirectory`; also used by the local playground). */
  readonly codeDirectory: string;
  /** What the agent's code declares (tools, maxSteps, instructions' size), when `agent` was given. */
  readonly agentManifest?: AgentManifest;
  /** The tools that are Lambda functions. */
  readonly lambdaTools: readonly AgentTool[];
  /** The MCP servers whose tools the agent uses. */
  readonly mcpServers: readonly McpServerTool[];
  /** The region's REST API. */
  readonly api: apigateway.RestApi;
  /** The API construct: its routes, and `grantInvoke()` for IAM callers. */
  readonly agentApi: AgentApi;
  /** Present when `recordName` and `hostedZone` were given. */
  readonly domains?: AgentDomains;
  /** The runtime's metrics, for alarms and dashboards. */
  readonly metrics: AgentMetrics;
  /** The region the runtime runs in. */
  readonly region: string;
  /** The jurisdiction the region belongs to. */
  readonly jurisdiction: Jurisdiction;
  /** This region's resolved Bedrock chain targets, in order. */
  readonly targets: readonly ResolvedTarget[];
  /** This region's targets outside Bedrock (the provider-fallback tier), in order. */
  readonly providerTargets: readonly ResolvedProviderTarget[];
  /** The secrets of the outside providers' API keys, when the chain has any. */
  readonly providerKeys?: ProviderKeys;
  /** The table the region's environments share target health through, unless `sharedHealth` is false. */
  readonly healthTable?: TargetHealthTable;
  /** The scheduled probe of the chain's targets, unless `probes` is false. */
  readonly probe?: TargetProbe;
  /** The ARNs granted `grantInvokeOnBehalfOfUsers`. */
  private readonly onBehalfCallers: string[] = [];

  constructor(scope: Construct, id: string, props: AgentRuntimeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.validateProps(stack, props);
    this.region = stack.region;
    this.jurisdiction = props.jurisdiction;
    this.metrics = new AgentMetrics({ region: this.region, account: stack.account, namespace: props.metricsNamespace });
    this.targets = withConstructPath(this, () => props.chain.targetsFor(props.jurisdiction, this.region));
    this.providerTargets = withConstructPath(this, () => props.chain.providerTargetsFor(props.jurisdiction, this.region));
    if (this.providerTargets.length > 0)
      this.providerKeys = new ProviderKeys(this, 'ProviderKeys', { models: this.providerTargets.map((target) => target.model) });
    if (props.sharedHealth !== false) this.healthTable = new TargetHealthTable(this, 'TargetHealth');
    this.runtimeConfig = this.buildConfig(props);
    const instructions = this.instructionsOf(props);
    const shared: SharedSettings = { timeout: props.timeout ?? Duration.minutes(2), logEncryption: this.logEncryptionOf(props) };

    const agentFunction = this.addFunction(props, instructions, shared);
    this.function = agentFunction.function;
    this.codeDirectory = agentFunction.codeDirectory;
    this.agentManifest = agentFunction.agentManifest;
    this.lambdaTools = agentFunction.lambdaTools;
    this.mcpServers = agentFunction.mcpServers;
    this.grantAccess(props.table);
    if (props.probes !== false) this.probe = this.addProbe(props.probes, props.logRetention, shared);
    if (props.manageApiGatewayAccount === false) this.deployAfterApiGatewayAccount();
    this.agentApi = this.addApi(props, shared);
    this.api = this.agentApi.api;
    if (props.recordName && props.hostedZone) this.domains = this.addDomains(props.recordName, props.hostedZone);
  }

  /** Lets an IAM principal call this region's agent routes (`execute-api:Invoke` on exactly those methods of the API). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.agentApi.grantInvoke(grantee);
  }

  /**
   * Lets a backend's IAM role (or user) call this region's agent routes and
   * act for its end users: it may name one in `x-agent-end-user`, and the
   * conversations are then the end user's (see docs/http-api.md, Backends acting for
   * their users). A permission apart from `grantInvoke`: API Gateway's IAM
   * authorization cannot see headers, so the role's ARN is written into the
   * function's `AGENT_ON_BEHALF_CALLERS` and the runtime compares it with
   * the caller API Gateway authenticated; any other caller naming an end
   * user is refused (403). The grantee must be a role or a user (a
   * function's or a task's role, for instance); with Cognito authorization
   * there is nothing to grant.
   */
  grantInvokeOnBehalfOfUsers(grantee: iam.IGrantable): iam.Grant {
    if (!this.agentApi.iamAuthorized) {
      throw new MultiRegionAgentError(
        'OnBehalfNeedsIam',
        'grantInvokeOnBehalfOfUsers: the API authorizes Cognito users, who are end users themselves; acting for end users needs AgentAuthorization.iam()',
        this,
      );
    }
    this.onBehalfCallers.push(arnOfGrantee(this, grantee));
    if (this.onBehalfCallers.length === 1) {
      // Lazy: later grants add to the list; the ARNs are known at deployment only.
      this.function.addEnvironment(ON_BEHALF_CALLERS_ENV_VAR, Lazy.string({ produce: () => Stack.of(this).toJsonString([...new Set(this.onBehalfCallers)]) }));
    }
    return this.agentApi.grantInvoke(grantee);
  }

  /**
   * The table as this stack may use it: a `ConversationTable` of another
   * stack by name (its ARN token cannot cross regions), with this stack
   * deployed after the table's; an import checked at synthesis against the
   * app's tables of that name.
   */
  private tableReference(table: IConversationTable): IConversationTable {
    const stack = Stack.of(this);
    if (!(table instanceof ConversationTable)) {
      this.node.addValidation({
        validate: () => {
          assertDeployedAfterTable(this, table.tableName);
          return [];
        },
      });
      return table;
    }
    const tableStack = Stack.of(table);
    if (tableStack === stack) return table;
    if (Token.isUnresolved(table.tableName)) {
      throw new MultiRegionAgentError(
        'TableNameToken',
        `table: the name of the table in stack ${tableStack.stackName} is a reference; give the ConversationTable a plain tableName (e.g. ConversationTable.tableNameFor) so that other stacks can use it by name`,
        this,
      );
    }
    if (table.homeKeyArn && Token.isUnresolved(table.homeKeyArn) && tableStack.region !== stack.region) {
      throw new MultiRegionAgentError(
        'TableKeyAcrossRegions',
        `table: its customer-managed key is a reference into stack ${tableStack.stackName} (${tableStack.region}), which cannot cross regions; ` +
          'pass ConversationTable.fromJurisdiction(scope, id, { jurisdiction, tableName, homeKeyArn: "<the key ARN>" }) and add the stack dependency',
        this,
      );
    }
    stack.addStackDependency(tableStack, 'the runtime reads and writes its jurisdiction table');
    return ConversationTable.fromJurisdiction(this, 'Table', { jurisdiction: table.jurisdiction, tableName: table.tableName, homeKeyArn: table.homeKeyArn });
  }

  /** Fallback rate % of this region (metric math over Fallbacks and Requests). */
  metricFallbackRate(options?: { period?: Duration }) {
    return this.metrics.fallbackRate(options);
  }

  /** Time to first token in ms (p50 unless `statistic` says otherwise). */
  metricTimeToFirstToken(options?: Parameters<AgentMetrics['timeToFirstToken']>[0]) {
    return this.metrics.timeToFirstToken(options);
  }

  /** Messages handled by this region (Sum). */
  metricRequests(options?: Parameters<AgentMetrics['requests']>[0]) {
    return this.metrics.requests(options);
  }

  /** Refuses what cannot be deployed, naming the prop: a stack without a region, a region or a table of another jurisdiction, half a custom domain. */
  private validateProps(stack: Stack, props: AgentRuntimeProps): void {
    if (Token.isUnresolved(stack.region)) {
      throw new MultiRegionAgentError(
        'RegionRequired',
        'AgentRuntime needs a stack with an explicit env.region: its chain, grants and routing are per region',
        this,
      );
    }
    if (!props.jurisdiction.includes(stack.region)) {
      throw new MultiRegionAgentError(
        'RegionOutsideJurisdiction',
        `jurisdiction: the stack's region ${stack.region} is not a region of '${props.jurisdiction.name}' (${props.jurisdiction.regions.join(', ')})`,
        this,
      );
    }
    if (props.table.jurisdiction.name !== props.jurisdiction.name) {
      throw new MultiRegionAgentError(
        'TableOfOtherJurisdiction',
        `table: belongs to jurisdiction '${props.table.jurisdiction.name}', not '${props.jurisdiction.name}'`,
        this,
      );
    }
    if ((props.recordName === undefined) !== (props.hostedZone === undefined)) {
      throw new MultiRegionAgentError('DomainNeedsZone', 'recordName and hostedZone: give both for a custom domain, or neither', this);
    }
  }

  /** How both log groups of the region are encrypted: one key for both (a KMS key costs $1 a month), or the service's. */
  private logEncryptionOf(props: AgentRuntimeProps): LogEncryption {
    const logKey = (props.logEncryption ?? LogEncryption.kms()).keyFor(this, 'LogKey');
    return logKey ? LogEncryption.kms(logKey) : LogEncryption.serviceManaged();
  }

  /** The streaming function, with the configuration, the agent's code, instructions and tools in its code asset. */
  private addFunction(props: AgentRuntimeProps, instructions: AgentInstructions | undefined, shared: SharedSettings): AgentFunction {
    return new AgentFunction(this, 'Function', {
      jurisdiction: this.jurisdiction,
      region: this.region,
      runtimeConfig: this.runtimeConfig,
      agent: props.agent,
      instructions,
      tools: props.tools,
      memorySize: props.memorySize,
      timeout: shared.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logRetention: props.logRetention,
      logEncryption: shared.logEncryption,
    });
  }

  /** Lets the function use exactly the chain's Bedrock targets, the providers' keys, its jurisdiction's table and the shared health table. */
  private grantAccess(table: IConversationTable): void {
    grantBedrockTargets(this.function, Stack.of(this), this.targets);
    this.providerKeys?.grantRead(this.function);
    this.tableReference(table).grantConversationAccess(this.function);
    this.healthTable?.grantHealthAccess(this.function);
  }

  /** The scheduled probe of every target of the chain. */
  private addProbe(options: TargetProbeOptions | undefined, logRetention: logs.RetentionDays | undefined, shared: SharedSettings): TargetProbe {
    return new TargetProbe(this, 'Probe', {
      ...options,
      runtimeConfig: this.runtimeConfig,
      targets: this.targets,
      providerTargets: this.providerTargets,
      providerKeys: this.providerKeys,
      healthTable: this.healthTable,
      logRetention,
      logEncryption: shared.logEncryption,
      metricsNamespace: this.metrics.namespace,
    });
  }

  /** With the account's API Gateway logging role registered elsewhere: this stack deploys after the app's stack that registers it, if any. */
  private deployAfterApiGatewayAccount(): void {
    // Every construct of the app exists once aspects run, whatever the order they were created in.
    Aspects.of(this).add({
      visit: (node) => {
        if (node === this) orderAfterApiGatewayAccount(this);
      },
    });
  }

  /** The REST API in front of the function. */
  private addApi(props: AgentRuntimeProps, shared: SharedSettings): AgentApi {
    return new AgentApi(this, 'Api', {
      handler: this.function,
      jurisdiction: this.jurisdiction,
      timeout: shared.timeout,
      authorization: props.authorization,
      throttling: props.throttling,
      healthThrottling: props.healthThrottling,
      // The execute-api URL would bypass the custom domains' routing; clients use the domains.
      disableExecuteApiEndpoint: props.recordName !== undefined,
      manageApiGatewayAccount: props.manageApiGatewayAccount,
      logRetention: props.logRetention,
      logEncryption: shared.logEncryption,
      tracing: props.tracing,
    });
  }

  /** The certificate and the custom domains of the API. */
  private addDomains(recordName: string, hostedZone: route53.IHostedZone): AgentDomains {
    // 'Default' keeps the domains' and certificate's logical ids what they were when AgentRuntime created them
    // directly: a replaced API Gateway domain name would collide with the old one during the update.
    return new AgentDomainNames(this, 'Default', { api: this.api, recordName, hostedZone, jurisdiction: this.jurisdiction, region: this.region });
  }

  /** `instructions`, or the older `settings.inference.systemPrompt` as the same file of the asset. */
  private instructionsOf(props: AgentRuntimeProps): AgentInstructions | undefined {
    const systemPrompt = props.settings?.inference?.systemPrompt;
    if (systemPrompt === undefined || systemPrompt.trim() === '') return props.instructions;
    if (props.instructions) {
      throw new MultiRegionAgentError(
        'InstructionsGivenTwice',
        'instructions and settings.inference.systemPrompt: give the instructions once (instructions: AgentInstructions.fromText(...) replaces systemPrompt)',
        this,
      );
    }
    return AgentInstructions.fromText(systemPrompt);
  }

  private buildConfig(props: AgentRuntimeProps): RuntimeConfigInput {
    const settings = props.settings ?? {};
    const prices = Object.fromEntries(
      [...this.targets, ...this.providerTargets].filter((target) => target.model.price).map((target) => [target.modelId, target.model.price!]),
    );
    const config: RuntimeConfigInput = {
      region: this.region,
      jurisdiction: props.jurisdiction.toConfig(),
      // promptCaching only where it is true: every byte of AGENT_CONFIG counts against Lambda's 4 KB.
      chain: [
        ...this.targets.map(({ modelId, region, tier, model }) => ({ modelId, region, tier, ...(model.promptCaching ? { promptCaching: true } : {}) })),
        // The key's secret is named, never its value: AGENT_CONFIG is visible to whoever may read the function's configuration.
        ...this.providerTargets.map(({ modelId, region, tier, model }) => ({
          modelId,
          region,
          tier,
          provider: { name: model.provider, residency: model.residency, secret: this.providerKeys!.secretFor(model).secretId },
        })),
      ],
      jurisdictionHosts: props.jurisdictionHosts ?? (props.recordName ? { [props.jurisdiction.name]: props.jurisdiction.hostName(props.recordName) } : {}),
      table: {
        name: props.table.tableName,
        homeRegion: props.jurisdiction.homeRegion,
        historyTurns: settings.historyTurns,
        historyBytes: settings.historyBytes,
        ttlDays: settings.ttlDays,
      },
      deadlines: settings.deadlines,
      breaker: settings.breaker,
      retryBudget: settings.retryBudget,
      hedge: settings.hedge,
      sharedHealth: this.healthTable ? { tableName: this.healthTable.tableName, refreshMs: settings.sharedHealthRefreshMs } : undefined,
      latencySamples: settings.latencySamples,
      // The system prompt goes into the code asset (instructionsOf), never into the 4 KB environment.
      inference: withoutSystemPrompt(settings.inference),
      limits: settings.limits,
      prices,
      observability: { metricsNamespace: this.metrics.namespace, logMessageText: settings.logMessageText },
    };
    // The runtime validates the same document at cold start; failing here keeps a bad one from deploying.
    withConstructPath(this, () => validateRuntimeConfig(config), 'InvalidRuntimeConfig');
    return config;
  }
}

/** The ARN of a role or user: what the runtime compares with the authenticated caller. */
function arnOfGrantee(scope: Construct, grantee: iam.IGrantable): string {
  const principal = grantee.grantPrincipal as Partial<iam.IRole & iam.IUser>;
  if (principal.roleArn !== undefined) return principal.roleArn;
  if (principal.userArn !== undefined) return principal.userArn;
  throw new MultiRegionAgentError(
    'OnBehalfGranteeNotRole',
    `grantInvokeOnBehalfOfUsers: the grantee must be an IAM role or user (a Lambda function's or an ECS task's role, for instance), got ${grantee.grantPrincipal.constructor.name}`,
    scope,
  );
}

/** What the function, the probe and the API share. */
interface SharedSettings {
  /** The function's (and the streaming integration's) timeout. */
  readonly timeout: Duration;
  /** How the function's, the probe's and the access logs' log groups are encrypted. */
  readonly logEncryption: LogEncryption;
}

function withoutSystemPrompt(inference: RuntimeConfigInput['inference']): RuntimeConfigInput['inference'] {
  if (!inference) return inference;
  const { systemPrompt: _systemPrompt, ...rest } = inference;
  return rest;
}
