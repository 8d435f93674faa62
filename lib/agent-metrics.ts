import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEFAULT_METRICS_NAMESPACE, DimensionName, MetricName, type TargetErrorReason } from '../lambda/agent/metric-names';
import type { Tier } from '../lambda/agent/config';

export interface AgentMetricsProps {
  /** The region whose runtime emits the metrics. */
  readonly region: string;
  /** @default - the account of the stack that uses the metric */
  readonly account?: string;
  /** @default 'MultiRegionAgent' */
  readonly namespace?: string;
}

/**
 * The runtime's metrics for one region, as CloudWatch metric objects. Every
 * metric carries its region (and account), so the same object serves an
 * alarm in that region and a widget on a dashboard in any region.
 * Defaults: one-minute period; counts are sums.
 */
export class AgentMetrics {
  readonly region: string;
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

  regionalFallbacks(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.RegionalFallbacks, 'Sum', options);
  }

  modelFallbacks(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.ModelFallbacks, 'Sum', options);
  }

  failedRequests(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.FailedRequests, 'Sum', options);
  }

  stateDegraded(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.StateDegraded, 'Sum', options);
  }

  breakerOpened(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.BreakerOpened, 'Sum', options);
  }

  /** Time to first token in ms; statistic p50 unless given. */
  timeToFirstToken(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.TimeToFirstToken, 'p50', options);
  }

  /** Whole-answer latency in ms; statistic p50 unless given. */
  latency(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.Latency, 'p50', options);
  }

  /** Requests served by one path (Sum). */
  requestsByPath(path: Tier, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.Requests, 'Sum', { ...options, dimensionsMap: { [DimensionName.Region]: this.region, [DimensionName.Path]: path } });
  }

  /** Estimated USD cost of one path (Sum). */
  estimatedCost(path: Tier, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.EstimatedCost, 'Sum', { ...options, dimensionsMap: { [DimensionName.Region]: this.region, [DimensionName.Path]: path } });
  }

  /** Failed calls to model targets for one reason (Sum). */
  targetErrors(reason: TargetErrorReason, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.TargetErrors, 'Sum', { ...options, dimensionsMap: { [DimensionName.Region]: this.region, [DimensionName.Reason]: reason } });
  }

  /** Fallbacks / Requests × 100 over the period; 0 when there were no requests. */
  fallbackRate(options: { period?: Duration } = {}): cloudwatch.MathExpression {
    const period = options.period ?? Duration.minutes(1);
    // Ids unique per region, so that one graph can hold every region's rate.
    const suffix = this.region.replace(/-/g, '_');
    return new cloudwatch.MathExpression({
      expression: `IF(requests_${suffix} > 0, 100 * fallbacks_${suffix} / requests_${suffix}, 0)`,
      usingMetrics: { [`requests_${suffix}`]: this.requests({ period }), [`fallbacks_${suffix}`]: this.fallbacks({ period }) },
      label: `Fallback rate % (${this.region})`,
      period,
    });
  }

  private metric(name: MetricName, statistic: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { [DimensionName.Region]: this.region },
      statistic,
      period: Duration.minutes(1),
      region: this.region,
      account: this.account,
      label: `${name} (${this.region})`,
      ...options,
    });
  }
}
