/**
 * Logs and metrics through Powertools for AWS Lambda: structured JSON logs
 * and CloudWatch embedded-metric-format records, both written to stdout so
 * they cost no network call on the request path. Metric and dimension names
 * come from metric-names.ts, which the dashboards in lib/ use too.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ChainTarget, RuntimeConfig, Tier } from './config';
import { DimensionName, MCP_SERVER_PROPERTY, MetricName, TargetErrorReason } from './metric-names';
import type { Classification } from './chain/classify';
import type { Step } from './agent/agent-loop';
import type { Attempt, Usage } from './chain/types';
import { StateUnavailableError } from './store/conversation-store';

export interface RequestSummary {
  requestId: string;
  conversationId: string;
  /** The caller's full identity (an assumed role's session included), for logs only. */
  caller: string;
  /** The end user the caller acts for, when it names one. */
  endUser?: string;
  status: number;
  path?: Tier;
  target?: ChainTarget;
  attempts: readonly Attempt[];
  timeToFirstTokenMs?: number;
  latencyMs: number;
  usage?: Usage;
  stateDegraded: boolean;
  stored: boolean;
  incomplete: boolean;
  /** The caller hung up before the answer ended: its own choice, not a failure of the service. */
  clientGone: boolean;
  /** Only logged when the configuration allows message text in logs. */
  text?: { question: string; answer: string };
  /** The agent loop's model calls, each with the target that served it and its tool calls. */
  steps: readonly Step[];
}

export class Telemetry {
  readonly logger: Logger;
  private readonly metrics: Metrics;

  constructor(private readonly config: RuntimeConfig) {
    const { serviceName, metricsNamespace } = config.observability;
    this.logger = new Logger({ serviceName, persistentKeys: { region: config.region, jurisdiction: config.jurisdiction.name } });
    this.metrics = new Metrics({ namespace: metricsNamespace, serviceName, logger: this.logger });
    // Our dashboards and alarms address metrics by Region (and Path or Reason) only: Region is in
    // every dimension set, and Powertools' default `service` dimension in none.
    this.metrics.clearDefaultDimensions();
    this.metrics.setDefaultDimensions({ [DimensionName.Region]: config.region });
  }

  /** One summary per message: a log line and the request's metrics. */
  requestCompleted(summary: RequestSummary): void {
    const { text, target, steps, ...rest } = summary;
    this.logger.info('message completed', {
      ...rest,
      model: target?.modelId,
      modelRegion: target?.region,
      provider: target?.provider ? `${target.provider.name}:${target.provider.residency}` : undefined,
      // Which target served each step and which tools ran: never their input or results (message text).
      steps: steps.map((step) => ({
        step: step.step,
        tier: step.target.tier,
        model: step.target.modelId,
        modelRegion: step.target.region,
        tools: step.tools.map((tool) => ({ name: tool.name, ok: tool.ok, durationMs: tool.durationMs })),
      })),
      ...(this.config.observability.logMessageText && text ? { text } : {}),
    });

    // No target served it and the fault was upstream (every target failed or throttled, or time ran out);
    // a request the model rejected as invalid, or whose caller hung up, is not a failure or a fallback.
    const unserved = summary.path === undefined && !summary.clientGone && (summary.status === 429 || summary.status >= 500);
    // A fallback is any request the primary did not serve, so the fallback-rate alarm also fires when nothing could.
    const fellBack = (summary.path !== undefined && summary.path !== 'primary') || unserved;
    // Each step is priced at its own model's rates: a loop may fall back to a cheaper model midway.
    const stepCosts = steps.flatMap((step) => (step.usage ? [this.estimateCost(step.target.modelId, step.usage)] : []));
    const costUsd = stepCosts.some((cost) => cost !== undefined) ? stepCosts.reduce<number>((sum, cost) => sum + (cost ?? 0), 0) : undefined;
    // One record, two dimension sets (each adds to the default Region): [Region] feeds rates and
    // alarms, [Region, Path] the per-path views.
    this.metrics.addDimensions({});
    if (summary.path) this.metrics.addDimensions({ [DimensionName.Path]: summary.path });
    this.metrics.addMetric(MetricName.Requests, MetricUnit.Count, 1);
    this.metrics.addMetric(MetricName.Fallbacks, MetricUnit.Count, fellBack ? 1 : 0);
    this.metrics.addMetric(MetricName.RegionalFallbacks, MetricUnit.Count, summary.path === 'regional-fallback' ? 1 : 0);
    this.metrics.addMetric(MetricName.ModelFallbacks, MetricUnit.Count, summary.path === 'model-fallback' ? 1 : 0);
    this.metrics.addMetric(MetricName.ProviderFallbacks, MetricUnit.Count, summary.path === 'provider-fallback' ? 1 : 0);
    this.metrics.addMetric(MetricName.FailedRequests, MetricUnit.Count, unserved || (summary.incomplete && !summary.clientGone) ? 1 : 0);
    this.metrics.addMetric(MetricName.StateDegraded, MetricUnit.Count, summary.stateDegraded ? 1 : 0);
    const overRetryBudget = summary.attempts.some((attempt) => attempt.reason === 'RetryBudget');
    this.metrics.addMetric(MetricName.RetryBudgetRefusals, MetricUnit.Count, overRetryBudget ? 1 : 0);
    const skippedOnSharedWord = summary.attempts.some((attempt) => attempt.reason === 'SharedBreakerOpen');
    this.metrics.addMetric(MetricName.SharedBreakerSkips, MetricUnit.Count, skippedOnSharedWord ? 1 : 0);
    const hedges = summary.attempts.filter((attempt) => attempt.hedge);
    this.metrics.addMetric(MetricName.HedgesStarted, MetricUnit.Count, hedges.length > 0 ? 1 : 0);
    this.metrics.addMetric(MetricName.HedgesWon, MetricUnit.Count, hedges.some((attempt) => attempt.outcome === 'answered') ? 1 : 0);
    this.metrics.addMetric(MetricName.Latency, MetricUnit.Milliseconds, summary.latencyMs);
    if (summary.timeToFirstTokenMs !== undefined) this.metrics.addMetric(MetricName.TimeToFirstToken, MetricUnit.Milliseconds, summary.timeToFirstTokenMs);
    if (summary.usage) {
      this.metrics.addMetric(MetricName.InputTokens, MetricUnit.Count, summary.usage.inputTokens);
      this.metrics.addMetric(MetricName.OutputTokens, MetricUnit.Count, summary.usage.outputTokens);
    }
    if (costUsd !== undefined) this.metrics.addMetric(MetricName.EstimatedCost, MetricUnit.NoUnit, costUsd);
    if (steps.length > 0) {
      this.metrics.addMetric(MetricName.Steps, MetricUnit.Count, steps.length);
      this.metrics.addMetric(MetricName.StepFallbacks, MetricUnit.Count, steps.filter((step) => step.target.tier !== 'primary').length);
    }
    this.metrics.publishStoredMetrics();
  }

  /** One tool call: [Region, Tool] counts and latency, for the dashboard's tools row; an MCP tool's server is a property of the record. */
  toolCompleted(name: string, ok: boolean, durationMs: number, server?: string): void {
    if (!ok) this.logger.warn('tool call failed', { tool: name, durationMs, ...(server !== undefined ? { server } : {}) });
    this.metrics.addDimensions({ [DimensionName.Tool]: name });
    if (server !== undefined) this.metrics.addMetadata(MCP_SERVER_PROPERTY, server);
    this.metrics.addMetric(MetricName.ToolCalls, MetricUnit.Count, 1);
    this.metrics.addMetric(MetricName.ToolErrors, MetricUnit.Count, ok ? 0 : 1);
    this.metrics.addMetric(MetricName.ToolLatency, MetricUnit.Milliseconds, durationMs);
    this.metrics.publishStoredMetrics();
  }

  /** An MCP server whose tool list could not be read, or one of whose tools cannot be offered: its tools stay as last read. */
  mcpServerProblem(server: string, problem: string): void {
    this.logger.warn('MCP server problem', { server, problem });
  }

  /** Conversations deleted by their owner (one, or all: erasure); ids and counts, never titles or text. */
  conversationsDeleted(deletion: { requestId: string; caller: string; endUser?: string; conversationIds: readonly string[]; erasure: boolean }): void {
    this.logger.info(deletion.erasure ? 'conversations erased' : 'conversation deleted', { ...deletion, count: deletion.conversationIds.length });
  }

  /** A deleted conversation's items could not all be removed after the answer: its tombstone hides them, erasure or TTL removes them. */
  itemsLeft(conversationId: string, error: unknown): void {
    this.logger.warn('deleted conversation items left', { conversationId, error: (error as Error).name ?? 'error' });
  }

  /** A retried request answered from the store: no model was called. */
  requestReplayed(replay: { requestId: string; conversationId: string; caller: string; turn: number }): void {
    this.logger.info('message replayed', replay);
    this.count(MetricName.ReplayedRequests);
  }

  targetFailed(target: ChainTarget, reason: TargetErrorReason, action: Classification['action'], error: unknown): void {
    const details = {
      model: target.modelId,
      modelRegion: target.region,
      tier: target.tier,
      provider: target.provider?.name,
      reason,
      action,
      error: describe(error),
    };
    // A skipped target is a misconfiguration (grant or model id): say so loudly.
    if (action === 'skip') this.logger.error('model target misconfigured; skipped', details);
    else this.logger.warn('model target failed', details);
    this.count(MetricName.TargetErrors, { [DimensionName.Reason]: reason });
  }

  breakerOpened(target: ChainTarget): void {
    this.logger.warn('circuit breaker opened', { model: target.modelId, modelRegion: target.region });
    this.count(MetricName.BreakerOpened);
  }

  openedOnRegionFailures(target: string, failures: number): void {
    this.logger.warn("circuit breaker opened on the region's failures in a row", { target, failures });
    this.count(MetricName.BreakerOpened);
  }

  invalidHealthRecord(target: string | undefined): void {
    this.logger.warn('shared target-health record ignored: it does not parse', { target });
    this.count(MetricName.SharedHealthInvalidRecords);
  }

  healthStoreFailed(operation: 'read' | 'write', error: unknown): void {
    this.logger.warn('shared target-health table unreachable; this environment relies on its own breakers', { operation, error: describe(error) });
    this.count(MetricName.SharedHealthErrors);
  }

  residencyRefused(target: ChainTarget, why: string): void {
    this.logger.error('residency guard refused a configured target', { model: target.modelId, modelRegion: target.region, why });
    this.count(MetricName.TargetErrors, { [DimensionName.Reason]: TargetErrorReason.ResidencyRefused });
  }

  stateUnavailable(error: unknown): void {
    // The store wraps SDK errors; the log names the underlying one.
    const cause = error instanceof StateUnavailableError ? error.cause : error;
    this.logger.error('home-region conversation state unavailable; answering degraded', { error: describe(cause) });
  }

  /** One count with dimensions [Region], or [Region, ...extra]. */
  private count(name: MetricName, extra: Record<string, string> = {}): void {
    this.metrics.addDimensions(extra);
    this.metrics.addMetric(name, MetricUnit.Count, 1);
    this.metrics.publishStoredMetrics();
  }

  private estimateCost(modelId: string, usage: Usage): number | undefined {
    const price = this.config.prices[modelId];
    if (!price) return undefined;
    return (usage.inputTokens / 1000) * price.inputPer1kTokens + (usage.outputTokens / 1000) * price.outputPer1kTokens;
  }
}

function describe(error: unknown): { name?: string; message?: string; status?: number } {
  const failure = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return { name: failure?.name, message: failure?.message, status: failure?.$metadata?.httpStatusCode };
}
