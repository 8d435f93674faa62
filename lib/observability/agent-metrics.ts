import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEFAULT_METRICS_NAMESPACE, DimensionName, MetricName, type TargetErrorReason } from '../../lambda/agent/metric-names';
import type { Tier } from '../../lambda/agent/config';

/** Whose metrics an {@link AgentMetrics} reads: the region (and account) and namespace of one runtime. */
export interface AgentMetricsProps {
  /** The region whose runtime emits the metrics. */
  readonly region: string;
  /**
   * The account whose runtime emits the metrics.
   * @default - the account of the stack that uses the metric
   */
  readonly account?: string;
  /**
   * The runtime's metrics namespace.
   * @default 'MultiRegionAgent'
   */
  readonly namespace?: string;
}

/**
 * The runtime's metrics for one region, as CloudWatch metric objects (the
 * names come from lambda/agent/metric-names.ts, which the runtime emits).
 * Every metric carries its region (and account), so the same factory serves
 * an alarm in that region and a widget on a dashboard in any region.
 *
 * Defaults: a one-minute period; counts are sums, latencies p50, steps per message an average.
 */
export class AgentMetrics {
  /** The region whose runtime emits the metrics. */
  readonly region: string;
  /** The CloudWatch namespace the metrics are read from. */
  readonly namespace: string;
  private readonly account?: string;

  constructor(props: AgentMetricsProps) {
    this.region = props.region;
    this.account = props.account;
    this.namespace = props.namespace ?? DEFAULT_METRICS_NAMESPACE;
  }

  /** Messages handled (Sum). */
  requests(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.Requests, 'Sum', options);
  }

  /** Messages answered by any target but the primary (Sum). */
  fallbacks(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.Fallbacks, 'Sum', options);
  }

  /** Messages answered by the same model in another region of the jurisdiction (Sum). */
  regionalFallbacks(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.RegionalFallbacks, 'Sum', options);
  }

  /** Messages answered by a degraded model (Sum). */
  modelFallbacks(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.ModelFallbacks, 'Sum', options);
  }

  /** Messages that no target answered completely (Sum). */
  failedRequests(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.FailedRequests, 'Sum', options);
  }

  /** Messages answered while the home region's table could not be reached (Sum). */
  stateDegraded(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.StateDegraded, 'Sum', options);
  }

  /** Circuit breakers that opened on a model target (Sum). */
  breakerOpened(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.BreakerOpened, 'Sum', options);
  }

  /** Requests refused at once because the retry budget was spent (Sum). */
  retryBudgetRefusals(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.RetryBudgetRefusals, 'Sum', options);
  }

  /** Requests whose first target was hedged (Sum). */
  hedgesStarted(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.HedgesStarted, 'Sum', options);
  }

  /** Requests the hedge served (Sum). */
  hedgesWon(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.HedgesWon, 'Sum', options);
  }

  /** Requests that skipped a target held open by another environment of the region (Sum). */
  sharedBreakerSkips(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.SharedBreakerSkips, 'Sum', options);
  }

  /** Shared target-health records that failed to parse and were ignored (Sum). */
  sharedHealthInvalidRecords(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.SharedHealthInvalidRecords, 'Sum', options);
  }

  /** Failed reads and writes of the shared target-health table (Sum). */
  sharedHealthErrors(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.SharedHealthErrors, 'Sum', options);
  }

  /** Time to the first token of an answer, in ms (p50 unless `statistic` says otherwise). */
  timeToFirstToken(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.TimeToFirstToken, 'p50', options);
  }

  /** Time to the whole answer, in ms (p50 unless `statistic` says otherwise). */
  latency(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.Latency, 'p50', options);
  }

  /** Messages served by one path (Sum). */
  requestsByPath(path: Tier, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.Requests, 'Sum', options, { [DimensionName.Path]: path });
  }

  /** Estimated USD cost of the messages served by one path (Sum). */
  estimatedCost(path: Tier, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.EstimatedCost, 'Sum', options, { [DimensionName.Path]: path });
  }

  /** Failed calls to model targets for one reason (Sum). */
  targetErrors(reason: TargetErrorReason, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.TargetErrors, 'Sum', options, { [DimensionName.Reason]: reason });
  }

  /** Model calls of a message's tool loop: the runtime emits one value per message, so the default Average is the steps per message. */
  steps(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.Steps, 'Average', options);
  }

  /** Steps served by another target than the primary (Sum). */
  stepFallbacks(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.StepFallbacks, 'Sum', options);
  }

  /** Calls of one tool (Sum). */
  toolCalls(tool: string, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.ToolCalls, 'Sum', options, { [DimensionName.Tool]: tool });
  }

  /** Calls of one tool that failed: threw, timed out, got invalid input or returned what is not JSON (Sum). */
  toolErrors(tool: string, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.ToolErrors, 'Sum', options, { [DimensionName.Tool]: tool });
  }

  /** Time one tool's calls took, in ms (p50 unless `statistic` says otherwise). */
  toolLatency(tool: string, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.ToolLatency, 'p50', options, { [DimensionName.Tool]: tool });
  }

  /**
   * Fallback rate in percent: Fallbacks / Requests × 100 over each period,
   * 0 in a period whose requests are 0. For graphs.
   */
  fallbackRate(options: { readonly period?: Duration } = {}): cloudwatch.MathExpression {
    const period = options.period ?? Duration.minutes(1);
    // Ids are unique per region, so that one graph can hold every region's rate.
    const suffix = this.region.replace(/-/g, '_');
    const [requests, fallbacks] = [`requests_${suffix}`, `fallbacks_${suffix}`];
    return new cloudwatch.MathExpression({
      expression: `IF(${requests} > 0, 100 * ${fallbacks} / ${requests}, 0)`,
      usingMetrics: { [requests]: this.requests({ period }), [fallbacks]: this.fallbacks({ period }) },
      label: `${this.region} fallback rate %`,
      period,
    });
  }

  /**
   * The share of requests that fell back, from 0 to 1, as one plain metric:
   * the runtime emits `Fallbacks` once per request (0 or 1) beside
   * `Requests` (1), so their Average is exactly Fallbacks / Requests.
   *
   * Alarms use this rather than `fallbackRate()`: Route 53 health checks can
   * only watch alarms on a single metric, not on metric math. It has no
   * label, because CloudWatch alarms on labelled metrics are rendered as
   * metric queries, which Route 53 refuses as well.
   */
  fallbackRatio(options: { readonly period?: Duration } = {}): cloudwatch.Metric {
    return this.plainMetric(MetricName.Fallbacks, 'Average', options.period);
  }

  /**
   * Messages handled (Sum) as one plain, unlabelled metric, for alarms that
   * a Route 53 health check watches (see `fallbackRatio()`): the request
   * volume below which a fallback rate means little.
   */
  requestVolume(options: { readonly period?: Duration } = {}): cloudwatch.Metric {
    return this.plainMetric(MetricName.Requests, 'Sum', options.period);
  }

  /** A metric of this region's [Region] dimension set with no label (Route 53 refuses alarms on labelled metrics). */
  private plainMetric(name: MetricName, statistic: string, period = Duration.minutes(1)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { [DimensionName.Region]: this.region },
      statistic,
      period,
      region: this.region,
      account: this.account,
    });
  }

  private metric(name: MetricName, statistic: string, options: cloudwatch.MetricOptions = {}, extraDimensions: Record<string, string> = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      statistic,
      period: Duration.minutes(1),
      region: this.region,
      account: this.account,
      label: `${this.region} ${name}`,
      ...options,
      dimensionsMap: { [DimensionName.Region]: this.region, ...extraDimensions },
    });
  }
}
