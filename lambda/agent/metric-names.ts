/**
 * Metric and dimension names emitted by the runtime (EMF). Plain data with no
 * imports, so lib/ can use the same constants for dashboards and alarms.
 */

/** The CloudWatch namespace of the runtime's metrics when none is configured. */
export const DEFAULT_METRICS_NAMESPACE = 'MultiRegionAgent';

/** Names of the metrics the runtime emits; the dashboards and alarms read the same names. */
export const MetricName = {
  Requests: 'Requests',
  Fallbacks: 'Fallbacks',
  RegionalFallbacks: 'RegionalFallbacks',
  ModelFallbacks: 'ModelFallbacks',
  /** Requests served by an outside provider (the provider-fallback tier). */
  ProviderFallbacks: 'ProviderFallbacks',
  FailedRequests: 'FailedRequests',
  TargetErrors: 'TargetErrors',
  BreakerOpened: 'BreakerOpened',
  /** Requests whose first target was hedged: the next target started beside it (0/1 per request, [Region]). */
  HedgesStarted: 'HedgesStarted',
  /** Requests served by the hedge, the first target being slower (0/1 per request, [Region]). */
  HedgesWon: 'HedgesWon',
  /** A scheduled probe of one target answered (1) or not (0) ([Region, Target]). */
  ProbeSuccess: 'ProbeSuccess',
  /** A scheduled probe's time to first token, in ms ([Region, Target]). */
  ProbeTimeToFirstToken: 'ProbeTimeToFirstToken',
  /** Requests that skipped a target because another environment of the region holds its breaker open (0/1 per request, [Region]). */
  SharedBreakerSkips: 'SharedBreakerSkips',
  /** Shared target-health records that failed to parse and were ignored ([Region]). */
  SharedHealthInvalidRecords: 'SharedHealthInvalidRecords',
  /** Reads or writes of the shared target-health table that failed ([Region]); the runtime then relies on its own breakers. */
  SharedHealthErrors: 'SharedHealthErrors',
  /** Requests refused (503) because the region's budget of fallback calls was spent (0/1 per request, [Region]). */
  RetryBudgetRefusals: 'RetryBudgetRefusals',
  TimeToFirstToken: 'TimeToFirstToken',
  Latency: 'Latency',
  InputTokens: 'InputTokens',
  OutputTokens: 'OutputTokens',
  EstimatedCost: 'EstimatedCost',
  /** Requests served while the home region's table could not be reached. */
  StateDegraded: 'StateDegraded',
  /** Retried requests (same Idempotency-Key) answered with the stored exchange instead of a new one. */
  ReplayedRequests: 'ReplayedRequests',
  /** Model calls of one message's tool loop (one per message, [Region]). */
  Steps: 'Steps',
  /** Steps of a message served by another target than the primary ([Region]). */
  StepFallbacks: 'StepFallbacks',
  /** Tool calls ([Region, Tool]; a name the agent does not declare is counted as `unknown`). */
  ToolCalls: 'ToolCalls',
  /** Tool calls that failed: threw, timed out, got invalid input or returned what is not JSON ([Region, Tool]). */
  ToolErrors: 'ToolErrors',
  /** Time a tool call took, in ms ([Region, Tool]). */
  ToolLatency: 'ToolLatency',
} as const;
/** A metric name the runtime emits. */
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** Names of the dimensions the runtime's metrics carry. */
export const DimensionName = {
  Region: 'Region',
  Path: 'Path',
  Reason: 'Reason',
  /** A declared tool's name, or `unknown` (UNDECLARED_TOOL) for one the model invented. */
  Tool: 'Tool',
  /** A chain target, `<modelId>@<region>`. */
  Target: 'Target',
} as const;

/**
 * The `Tool` dimension of a call to a tool the agent does not declare: a name the model made up must not
 * mint a metric of its own (a prompt-injected model could otherwise create thousands of custom metrics).
 */
export const UNDECLARED_TOOL = 'unknown';

/** The property (not a dimension: no extra metrics) of a tool record naming the MCP server of the tool, when it has one. */
export const MCP_SERVER_PROPERTY = 'McpServer';

/** Values of the `Reason` dimension of `TargetErrors`. */
export const TargetErrorReason = {
  Throttled: 'Throttled',
  ServerError: 'ServerError',
  ModelNotReady: 'ModelNotReady',
  ModelTimeout: 'ModelTimeout',
  FirstTokenTimeout: 'FirstTokenTimeout',
  IdleTimeout: 'IdleTimeout',
  NetworkError: 'NetworkError',
  StreamError: 'StreamError',
  AccessDenied: 'AccessDenied',
  NotFound: 'NotFound',
  /** Bedrock refused the target itself as misconfigured (e.g. a model that needs an inference profile, an invalid model id). */
  Misconfigured: 'Misconfigured',
  /** The request is beyond one model's limits (context length, maximum output tokens); another model may take it. */
  ModelLimit: 'ModelLimit',
  Validation: 'Validation',
  /**
   * A target whose API is not the one the request is judged by (an outside provider behind Bedrock) refused the
   * request as invalid: a parameter or a form only that API does not take. The target is skipped as misconfigured.
   */
  TargetRejected: 'TargetRejected',
  /** An outside provider is overloaded (Anthropic's 529). */
  Overloaded: 'Overloaded',
  /** An outside provider refused the API key (401 after one re-read of the secret), or its secret is empty or unreadable. */
  KeyRejected: 'KeyRejected',
  ResidencyRefused: 'ResidencyRefused',
} as const;
export type TargetErrorReason = (typeof TargetErrorReason)[keyof typeof TargetErrorReason];
