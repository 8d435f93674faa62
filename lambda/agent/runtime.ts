/**
 * Wires one region's runtime from its configuration: SDK clients (created
 * once per execution environment), the conversation store, the fallback
 * chain with its breakers and latency tracker, telemetry, and the HTTP app.
 * Both the Lambda entry point and the local server build the runtime here.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { RuntimeConfigError, type RuntimeConfig } from './config';
import type { AgentAssetContents } from './agent/agent-asset';
import { DEFAULT_MAX_STEPS } from './agent/agent-kind';
import { LambdaClients, lambdaTools } from './agent/lambda-tools';
import { DeferredToolSource } from './agent/deferred-tool-source';
import type { ToolSource } from './agent/mcp-tools';
import { ToolRunner } from './agent/tool-runner';
import type { HostedAgent } from './message/answer-steps';
import { BedrockClients, bedrockInvoker } from './bedrock';
import { CircuitBreakers } from './chain/circuit-breaker';
import { FallbackChain } from './chain/fallback-chain';
import { HedgeCredit } from './chain/hedge-credit';
import { LatencyTracker } from './chain/latency-tracker';
import { RetryBudget, type RetryBudgetSettings } from './chain/retry-budget';
import { optionalModules } from './optional-modules';
import { targetInvoker } from './target-invoker';
import { systemClock, targetKey, type Clock, type InvokeTarget } from './chain/types';
import { DynamoHealthStore } from './health/dynamo-health-store';
import { HEALTH_RECORD_TTL_MS } from './health/health-record';
import { SharedTargetHealth } from './health/shared-target-health';
import { AgentApp } from './http/agent-app';
import { DynamoConversationStore } from './store/dynamo-conversation-store';
import { Telemetry } from './telemetry';

/** How much later than the chain's deadlines the HTTP/2 handler closes a silent stream. */
const STREAM_BACKSTOP_MARGIN_MS = 2000;

export interface RuntimeOverrides extends AgentAssetContents {
  clock?: Clock;
  /** Replaces the Bedrock call, e.g. to wrap it for measurement; defaults to ConverseStream over the SDK. */
  invoke?: InvokeTarget;
  /** Credentials for local emulators; deployed runtimes use the execution role. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface AgentRuntime {
  app: AgentApp;
  /** The target health this environment shares with the region's others, when `sharedHealth` is configured. */
  sharedHealth?: SharedTargetHealth;
  /** Closes the SDK clients' connections. */
  destroy(): void;
}

export function createAgentRuntime(config: RuntimeConfig, overrides: RuntimeOverrides = {}): AgentRuntime {
  const clock = overrides.clock ?? systemClock;
  const telemetry = new Telemetry(config);
  const bedrock = new BedrockClients({
    connectTimeoutMs: config.deadlines.connectTimeoutMs,
    // Only a backstop: the chain's own deadlines must fire first, or a silent stream would end as if complete.
    streamIdleTimeoutMs: Math.max(config.deadlines.idleTimeoutMs, config.deadlines.firstTokenTimeoutMs) + STREAM_BACKSTOP_MARGIN_MS,
    endpoints: config.endpoints?.bedrock,
    credentials: overrides.credentials,
  });
  const dynamo = new DynamoDBClient({
    region: config.table.homeRegion,
    endpoint: config.endpoints?.dynamodb,
    credentials: overrides.credentials,
    // One retry for a dropped connection; beyond that the request degrades visibly instead of waiting.
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({ connectionTimeout: config.deadlines.connectTimeoutMs, requestTimeout: config.deadlines.stateTimeoutMs }),
  });
  const store = new DynamoConversationStore({
    client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    tableName: config.table.name,
    ttlDays: config.table.ttlDays,
    clock,
    callTimeoutMs: config.deadlines.stateTimeoutMs,
  });
  const health = sharedHealth(config, overrides, telemetry, clock);
  const breakers = new CircuitBreakers(config.breaker, clock, health?.shared);
  const latency = new LatencyTracker(config.latencySamples);
  health?.shared.start(breakers, latency);
  const chain = new FallbackChain({
    targets: config.chain,
    jurisdiction: config.jurisdiction,
    firstTokenTimeoutMs: config.deadlines.firstTokenTimeoutMs,
    idleTimeoutMs: config.deadlines.idleTimeoutMs,
    invoke: overrides.invoke ?? targetInvoker(config, bedrockInvoker(bedrock), clock, overrides.credentials),
    breakers,
    latency,
    clock,
    reporter: telemetry,
    retryBudget: new RetryBudget(retryBudgetSettings(config), clock, config.retryBudget.enabled ? health?.shared.ledger : undefined),
    fleet: health?.shared,
    hedge: config.hedge && {
      settings: config.hedge,
      budget: new HedgeCredit({ ratio: config.hedge.maxRatio, burst: config.hedge.burst }),
    },
  });
  const lambda = new LambdaClients({
    connectTimeoutMs: config.deadlines.connectTimeoutMs,
    endpoint: config.endpoints?.lambda,
    credentials: overrides.credentials,
  });
  const mcp = mcpServers(config, overrides, telemetry, clock);
  const agent = hostedAgent(config, overrides, telemetry, lambda, mcp, clock);
  return {
    app: new AgentApp({ config, store, chain, agent, telemetry, clock }),
    sharedHealth: health?.shared,
    destroy: () => {
      health?.shared.stop();
      health?.client.destroy();
      bedrock.destroy();
      dynamo.destroy();
      lambda.destroy();
      for (const server of mcp) void server.close();
    },
  };
}

/** Fallback calls in any window by default, when the chain is short. */
const DEFAULT_BUDGET_FLOOR = 3;

/**
 * The retry budget's settings. Its floor defaults to 3 calls, or one walk of
 * the whole chain when that is longer, so that an isolated failure in a
 * quiet environment can still reach the chain's last target (an outside
 * provider, say): a floor below that would refuse the walk that the chain
 * exists for.
 */
function retryBudgetSettings(config: RuntimeConfig): RetryBudgetSettings {
  const { minPerWindow, ...settings } = config.retryBudget;
  return { ...settings, minPerWindow: minPerWindow ?? Math.max(config.chain.length - 1, DEFAULT_BUDGET_FLOOR) };
}

/**
 * The region's shared target health, when configured: its own DynamoDB client in the runtime's region
 * (the conversation client talks to the home region), with one attempt per call, since a late
 * answer is worth nothing: the next refresh asks again.
 */
function sharedHealth(config: RuntimeConfig, overrides: RuntimeOverrides, telemetry: Telemetry, clock: Clock) {
  if (!config.sharedHealth) return undefined;
  const { deadlines, sharedHealth: settings } = config;
  const client = new DynamoDBClient({
    region: config.region,
    endpoint: config.endpoints?.dynamodb,
    credentials: overrides.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: deadlines.connectTimeoutMs, requestTimeout: deadlines.stateTimeoutMs }),
  });
  const store = new DynamoHealthStore({
    client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName: settings.tableName,
    callTimeoutMs: deadlines.stateTimeoutMs,
  });
  const shared = new SharedTargetHealth({
    store,
    scope: config.region,
    environmentId: randomUUID(),
    targets: config.chain.map(targetKey),
    settings: {
      refreshMs: settings.refreshMs,
      // The writer's probe takes up to a first-token deadline, and its result a refresh to be written and another to be read.
      graceMs: deadlines.firstTokenTimeoutMs + 2 * settings.refreshMs,
      latencyShareMs: 60_000,
      latencyMaxAgeMs: 10 * 60_000,
      recordTtlMs: HEALTH_RECORD_TTL_MS,
      failureThreshold: config.breaker.failureThreshold,
      failureRunMs: config.breaker.cooldownMs,
      budgetWindowMs: config.retryBudget.windowMs,
    },
    clock,
    reporter: telemetry,
  });
  return { client, shared };
}

/** The agent this runtime hosts: the user's definition, Lambda and MCP tools, or a plain chat relay with the configured instructions. */
function hostedAgent(
  config: RuntimeConfig,
  asset: AgentAssetContents,
  telemetry: Telemetry,
  lambda: LambdaClients,
  mcp: ToolSource[],
  clock: Clock,
): HostedAgent {
  const { agent } = asset;
  const tools = [...(agent?.tools ?? []), ...(asset.lambdaTools ? lambdaTools(asset.lambdaTools.specs, asset.lambdaTools.functionArns, lambda) : [])];
  const duplicate = tools.map((tool) => tool.name).find((name, index, names) => names.indexOf(name) !== index);
  if (duplicate) throw new RuntimeConfigError(`Invalid agent: two tools are named ${duplicate} (a tool in code and a Lambda tool)`);
  return {
    instructions: agent?.instructions ?? asset.instructions ?? config.inference.systemPrompt,
    maxSteps: agent?.maxSteps ?? DEFAULT_MAX_STEPS,
    reasoning: agent?.reasoning,
    tools: new ToolRunner(tools, { resultBytes: config.limits.toolResultBytes, clock, reporter: telemetry, sources: mcp }),
  };
}

/**
 * The MCP servers of the asset. Their module (the MCP SDK's client) is
 * imported only when there are any, and at once, so that the first message
 * finds it loaded or nearly.
 */
function mcpServers(config: RuntimeConfig, overrides: RuntimeOverrides, telemetry: Telemetry, clock: Clock): ToolSource[] {
  const specs = overrides.mcpServers ?? [];
  if (specs.length === 0) return [];
  const onProblem = (server: string, problem: string) => telemetry.mcpServerProblem(server, problem);
  const servers = optionalModules.mcpServers().then((module) => module.mcpServerTools(specs, { config, clock, credentials: overrides.credentials, onProblem }));
  return specs.map(
    (spec, index) =>
      new DeferredToolSource(
        spec.name,
        servers.then((loaded) => loaded[index]),
        onProblem,
      ),
  );
}
