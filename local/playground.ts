/**
 * The whole multi-region agent on one machine: the embedded DynamoDB (one
 * table per jurisdiction), the Bedrock emulator with an endpoint per region,
 * the Lambda emulator running the agent's tool functions, one runtime per
 * region (the same app the Lambda runs, configured exactly as the deployment
 * configures it, with the agent its code asset holds, plus local endpoints)
 * and the front door.
 */
import { pathToFileURL } from 'node:url';
import { loadAgentAsset, type AgentAssetContents } from '../lambda/agent/agent/agent-asset';
import { MCP_URLS_ENV_VAR, TOOL_FUNCTIONS_ENV_VAR } from '../lambda/agent/agent/asset-layout';
import { validateRuntimeConfig, type RuntimeConfig, type RuntimeConfigInput } from '../lambda/agent/config';
import { AgentServer } from './agent-server';
import { BedrockEmulator } from './bedrock-emulator';
import { LocalDynamoDb } from './dynamodb';
import { LambdaEmulator, type LambdaHandler } from './lambda-emulator';
import { loadToolHandler } from './lambda-tool-loader';
import { LocalMcpServers } from './mcp-servers';
import { FrontDoor, type PlaygroundRegion } from './front-door';
import { MetricsBoard, tapRuntimeOutput } from './metrics-board';
import { MetricStore } from './cloudwatch/metric-store';
import type { SynthesizedMonitoring } from './cloudwatch/synthesized';
import { HealthChecks, type HealthCheckSettings } from './health-checks';
import { ProbeSchedule } from './probe-schedule';
import { PlaygroundViews } from './views';
import { ProviderServices } from './provider-services';
import type { LocalSigningKey } from './sigv4-verifier';
import { ModelScript } from './model-script';
import { ToolRunLog } from './tool-runs';

export interface PlaygroundOptions {
  /** One runtime configuration per region, as the deployment produces them. */
  configs: RuntimeConfigInput[];
  /** Jurisdictions whose located users are kept in them (those with geolocations). */
  keepLocatedUsers: string[];
  /**
   * The agent of each region: its code asset's directory (AgentRuntime.codeDirectory) and,
   * for each tool that is a Lambda function, the module whose `handler` the Lambda emulator runs.
   * @default - no agent of its own: a plain chat relay
   */
  agents?: Record<string, RegionAgent>;
  /** Front door port. @default 8787 */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /** Caller location when a request names none. @default 'us' */
  defaultLocation?: string;
  /** The emulated model's time to first token and pause between tokens. */
  firstTokenDelayMs?: number;
  tokenDelayMs?: number;
  /** Print the runtimes' JSON logs and metric records too. @default false */
  echoRuntimeOutput?: boolean;
  /**
   * The deployment's dashboards and alarms, as synthesized (see
   * cloudwatch/synthesized.ts), for the dashboard preview; called once, when
   * first needed.
   * @default - no dashboard preview
   */
  monitoring?: () => SynthesizedMonitoring;
  /**
   * A dashboard or alarm period of P seconds is drawn as P / timeScale
   * seconds, and health checks run timeScale times as often, so that a run
   * of minutes fills the dashboard's graphs. @default 12 (a minute in 5 s)
   */
  timeScale?: number;
  /**
   * The deployed Route 53 health checks' interval and failure threshold (AgentRouting's), and the records' TTL:
   * local checks run at that interval (scaled) and take a region out after as many failures.
   * @default DEFAULT_HEALTH_CHECKS
   */
  healthChecks?: HealthCheckSettings;
  /**
   * Refuse agent requests without a SigV4 signature made with this key, as
   * API Gateway's IAM authorization does (LOCAL_SIGNING_KEY is the one `npm run local -- --sigv4` announces).
   * @default - unsigned requests pass
   */
  signingKey?: LocalSigningKey;
  /**
   * Run the deployed health checks and target probes on their schedule. A
   * test suite turns them off, so that only its own messages reach the
   * emulated models (and take their faults and scripted turns).
   * @default true
   */
  scheduled?: boolean;
  /**
   * A directory the embedded DynamoDB keeps its data in, so that
   * conversations survive a restart (`agentctl local --state DIR`).
   * @default - in memory
   */
  statePath?: string;
}

/** AgentRouting's defaults, and the TTL of an alias to an API Gateway domain. */
export const DEFAULT_HEALTH_CHECKS: HealthCheckSettings = { intervalSeconds: 10, failureThreshold: 3, ttlSeconds: 60 };

/**
 * What a running playground can swap in place: the runtimes' configurations and agents (the regions stay), and the
 * dashboards and alarms of the preview.
 */
export type PlaygroundDeployment = Pick<PlaygroundOptions, 'configs' | 'keepLocatedUsers' | 'agents' | 'monitoring'>;

export interface RegionAgent {
  codeDirectory: string;
  /** Lambda tools given as handler modules (export `handler`), by tool name, run as functions of the region. */
  lambdaToolHandlers?: Readonly<Record<string, string>>;
  /** Lambda tools given as the deployment's functions (local/assembly/read-assembly.ts). */
  lambdaTools?: readonly LambdaToolFunction[];
  /** MCP servers the deployment runs as functions behind function URLs, served on loopback in their place. */
  mcpServers?: readonly McpServerFunction[];
}

/** An MCP server that is a function behind a function URL: the address the runtime was given, and the function (its `name`, the server's). */
export interface McpServerFunction {
  readonly url: string;
  readonly function: LambdaToolFunction;
}

/** A Lambda tool's function as the cloud assembly defines it. */
export interface LambdaToolFunction {
  /** The tool's name. */
  readonly name: string;
  /** The function's ARN, as the runtime's AGENT_TOOL_FUNCTIONS names it. */
  readonly functionArn: string;
  /** Where the function is defined (`<stack>/<logical id>`), for errors. */
  readonly source: string;
  /** The bundled handler module in the function's code asset (ESM or CommonJS). */
  readonly file: string;
  readonly exportName: string;
  /** The function's environment variables, set while its module loads and while it runs. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export class Playground {
  static async start(options: PlaygroundOptions): Promise<Playground> {
    const host = options.host ?? '127.0.0.1';
    const board = new MetricsBoard();
    // What CloudWatch would hold: the runtimes' EMF records and the data points the emulated services publish.
    const metrics = new MetricStore();
    const untap = tapRuntimeOutput(
      (line) => {
        board.record(line);
        metrics.putEmf(line);
      },
      { echo: options.echoRuntimeOutput },
    );
    const timeScale = options.timeScale ?? 12;
    const started: Array<{ close(): Promise<void> }> = [];
    // The emulated models' scripted turns: this deployment's own, shared by Bedrock and the outside providers.
    const script = new ModelScript();
    const toolRuns = new ToolRunLog();
    try {
      const configs = options.configs.map((config) => validateRuntimeConfig(config));
      const emulator = await BedrockEmulator.start({
        regions: [
          ...new Set(configs.flatMap((config) => [config.region, ...config.chain.filter((target) => !target.provider).map((target) => target.region)])),
        ],
        host,
        firstTokenDelayMs: options.firstTokenDelayMs,
        tokenDelayMs: options.tokenDelayMs,
        publishMetric: (datum) => metrics.put(datum),
        script,
      });
      started.push(emulator);
      // DynamoDB publishes a table's metrics in its region: the home region, where the turns are written.
      const homeRegions = new Map(configs.map((config) => [config.table.name, config.table.homeRegion]));
      const dynamo = await LocalDynamoDb.start({
        host,
        path: options.statePath,
        onConditionalCheckFailed: (tableName) =>
          metrics.put({
            region: homeRegions.get(tableName) ?? 'unknown',
            namespace: 'AWS/DynamoDB',
            metricName: 'ConditionalCheckFailedRequests',
            dimensions: { TableName: tableName },
            value: 1,
          }),
      });
      started.push(dynamo);
      const lambda = await LambdaEmulator.start({ host });
      started.push(lambda);
      const providers = await ProviderServices.start(host, { firstTokenDelayMs: options.firstTokenDelayMs, tokenDelayMs: options.tokenDelayMs, script });
      started.push(providers);
      const mcpServers = new LocalMcpServers(host);
      started.push(mcpServers);
      await createTables(dynamo, configs);
      const regions: PlaygroundRegion[] = [];
      const localConfigs: RuntimeConfig[] = [];
      const services: RegionServices = { emulator, dynamo, lambda, providers, toolRuns, mcpServers };
      for (const config of configs) {
        const { localConfig, asset } = await localRuntime(config, options.agents?.[config.region], services);
        localConfigs.push(localConfig);
        const server = await AgentServer.start({ config: localConfig, host, overrides: asset });
        started.push(server);
        regions.push({
          region: config.region,
          jurisdiction: config.jurisdiction.name,
          keepsLocatedUsers: options.keepLocatedUsers.includes(config.jurisdiction.name),
          area: config.jurisdiction.geography,
          server,
          bedrockEndpoint: emulator.endpoint(config.region),
          chain: config.chain,
        });
      }
      // The deployed health checks' interval and threshold, as synthesized.
      const healthChecks = new HealthChecks(
        () => regions.map((region) => ({ region: region.region, url: region.server.url })),
        (datum) => metrics.put(datum),
        options.healthChecks ?? DEFAULT_HEALTH_CHECKS,
        timeScale,
      );
      const views: PlaygroundViews = new PlaygroundViews({
        regions,
        store: metrics,
        monitoring: options.monitoring,
        timeScale,
        namespace: configs[0]?.observability.metricsNamespace ?? 'MultiRegionAgent',
        routeOf: (location): PlaygroundRegion => frontDoor.pick(undefined, location),
        healthChecks: () => healthChecks.report(),
      });
      const frontDoor: FrontDoor = new FrontDoor(regions, emulator, board, options.defaultLocation ?? 'us', views, providers, {
        signingKey: options.signingKey,
        mcpServers,
      });
      await frontDoor.listen(options.port ?? 8787, host);
      // The deployed probes call every target once a minute, outside providers included.
      const probes = new ProbeSchedule(localConfigs);
      // Started once the front door listens: a failed start leaves nothing running.
      if (options.scheduled ?? true) {
        healthChecks.start();
        probes.start(60_000 / timeScale);
      }
      return new Playground(
        frontDoor,
        regions,
        emulator,
        dynamo,
        lambda,
        providers,
        mcpServers,
        board,
        metrics,
        views,
        script,
        toolRuns,
        healthChecks,
        probes,
        untap,
      );
    } catch (error) {
      // A failed start (e.g. the port is taken) leaves nothing running and stdout as it was.
      await Promise.all(started.map((server) => server.close()));
      untap();
      throw error;
    }
  }

  private constructor(
    readonly frontDoor: FrontDoor,
    readonly regions: PlaygroundRegion[],
    readonly emulator: BedrockEmulator,
    readonly dynamo: LocalDynamoDb,
    readonly lambda: LambdaEmulator,
    /** The outside providers' emulators and their keys' Secrets Manager. */
    readonly providers: ProviderServices,
    /** The deployment's MCP servers that are functions behind function URLs, served on loopback. */
    readonly mcpServers: LocalMcpServers,
    readonly board: MetricsBoard,
    /** The metrics CloudWatch would hold, for the dashboard preview. */
    readonly metrics: MetricStore,
    readonly views: PlaygroundViews,
    /** The emulated models' scripted turns (Bedrock's and the outside providers'), answered before their default answers. */
    readonly script: ModelScript,
    /** The runs of the agents' code tools and Lambda tools. */
    readonly toolRuns: ToolRunLog,
    private readonly checks: HealthChecks,
    private readonly probeSchedule: ProbeSchedule,
    private readonly untap: () => void,
  ) {}

  get url(): string {
    return this.frontDoor.url;
  }

  /**
   * Swaps every region's runtime for the one of a new deployment of the same
   * regions (`agentctl local --watch`), keeping ports, the embedded DynamoDB
   * and what it stores; answers already streaming finish on the old runtime.
   * The probes call the new chains and the preview draws the new dashboards
   * from then on. A deployment that cannot run changes nothing.
   */
  async swap(deployment: PlaygroundDeployment): Promise<void> {
    const configs = deployment.configs.map((config) => validateRuntimeConfig(config));
    const before = this.regions.map((region) => region.region).sort();
    const after = configs.map((config) => config.region).sort();
    if (before.join() !== after.join())
      throw new Error(`the deployment's regions changed (${before.join(', ')} before, ${after.join(', ')} now); restart to run the new ones`);
    // Read before anything changes: dashboards that cannot be read fail the swap, not the page later.
    const monitoring = deployment.monitoring?.();
    await createTables(this.dynamo, configs);
    const services: RegionServices = {
      emulator: this.emulator,
      dynamo: this.dynamo,
      lambda: this.lambda,
      providers: this.providers,
      toolRuns: this.toolRuns,
      mcpServers: this.mcpServers,
    };
    const swaps = await Promise.all(configs.map(async (config) => ({ config, ...(await localRuntime(config, deployment.agents?.[config.region], services)) })));
    for (const { config, localConfig, asset } of swaps) {
      const region = this.regions.find((candidate) => candidate.region === config.region)!;
      region.server.swap(localConfig, asset);
      region.chain = config.chain;
      region.jurisdiction = config.jurisdiction.name;
      region.keepsLocatedUsers = deployment.keepLocatedUsers.includes(config.jurisdiction.name);
    }
    this.probeSchedule.replace(swaps.map(({ localConfig }) => localConfig));
    if (monitoring) this.views.resynthesized(monitoring, configs[0].observability.metricsNamespace);
  }

  /** Probes every region's targets now, rather than at the next interval. */
  probes(): Promise<void> {
    return this.probeSchedule.probeAll();
  }

  /** Runs every region's health check now, rather than at its next interval. */
  healthChecks(): Promise<void> {
    return this.checks.checkAll();
  }

  async close(): Promise<void> {
    await this.checks.stop();
    await this.probeSchedule.stop();
    await this.frontDoor.close();
    await Promise.all(this.regions.map((region) => region.server.close()));
    await this.emulator.close();
    await this.dynamo.close();
    await this.lambda.close();
    await this.providers.close();
    await this.mcpServers.close();
    this.untap();
  }
}

interface RegionServices {
  emulator: BedrockEmulator;
  dynamo: LocalDynamoDb;
  lambda: LambdaEmulator;
  providers: ProviderServices;
  toolRuns: ToolRunLog;
  mcpServers: LocalMcpServers;
}

/** Each conversation and shared-health table the configurations name, unless it exists (a swap, or data kept by `statePath`). */
async function createTables(dynamo: LocalDynamoDb, configs: readonly RuntimeConfig[]): Promise<void> {
  for (const table of new Set(configs.map((config) => config.table.name))) await dynamo.createConversationTable(table);
  for (const table of new Set(configs.flatMap((config) => (config.sharedHealth ? [config.sharedHealth.tableName] : [])))) await dynamo.createHealthTable(table);
}

/** A region's configuration with the local endpoints, and its agent. */
async function localRuntime(
  config: RuntimeConfig,
  agent: RegionAgent | undefined,
  { emulator, dynamo, lambda, providers, toolRuns, mcpServers }: RegionServices,
): Promise<{ localConfig: RuntimeConfig; asset: AgentAssetContents }> {
  const asset = await agentOf(config, agent, { lambda, toolRuns, mcpServers });
  const local = providers.localize(config);
  const localConfig: RuntimeConfig = {
    ...config,
    chain: local.chain,
    endpoints: { bedrock: emulator.endpoints, dynamodb: dynamo.endpoint, lambda: lambda.endpoint, ...local.endpoints },
  };
  return { localConfig, asset };
}

/**
 * A region's agent, read from its code asset as its Lambda reads it, with
 * each Lambda tool registered in the Lambda emulator under a function of
 * the region (tool inputs stay in the region, as deployed).
 */
async function agentOf(
  config: RuntimeConfig,
  agent: RegionAgent | undefined,
  { lambda, toolRuns, mcpServers }: Pick<RegionServices, 'lambda' | 'toolRuns' | 'mcpServers'>,
): Promise<AgentAssetContents> {
  if (!agent) return {};
  const functionArns: Record<string, string> = {};
  for (const [tool, modulePath] of Object.entries(agent.lambdaToolHandlers ?? {})) {
    const { handler } = (await import(pathToFileURL(modulePath).href)) as { handler: LambdaHandler };
    functionArns[tool] = lambda.register(
      `arn:aws:lambda:${config.region}:123456789012:function:${tool}-${config.region}`,
      toolRuns.recordLambdaTool(handler, config.region, tool),
    );
  }
  for (const tool of agent.lambdaTools ?? [])
    functionArns[tool.name] = lambda.register(tool.functionArn, toolRuns.recordLambdaTool(await loadToolHandler(tool), config.region, tool.name), {
      timeoutMs: tool.timeoutMs,
    });
  // The deployed function URL's address, replaced by the loopback one serving its function.
  const mcpUrls: Record<string, string> = {};
  for (const server of agent.mcpServers ?? []) mcpUrls[server.function.name] = await mcpServers.serve(server, config.region);
  const asset = await loadAgentAsset(agent.codeDirectory, {
    [TOOL_FUNCTIONS_ENV_VAR]: JSON.stringify(functionArns),
    [MCP_URLS_ENV_VAR]: JSON.stringify(mcpUrls),
  });
  return asset.agent ? { ...asset, agent: toolRuns.recordCodeTools(asset.agent, config.region) } : asset;
}
