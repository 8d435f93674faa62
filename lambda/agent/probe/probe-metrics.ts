/** The probe's EMF records: per target, success (0/1) and time to first token, with dimensions [Region, Target]. */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { targetKey } from '../chain/types';
import type { RuntimeConfig } from '../config';
import { DimensionName, MetricName } from '../metric-names';
import type { ProbeResult } from './target-prober';

export class ProbeMetrics {
  private readonly metrics: Metrics;

  constructor(config: RuntimeConfig) {
    this.metrics = new Metrics({ namespace: config.observability.metricsNamespace, serviceName: `${config.observability.serviceName}-probe` });
    this.metrics.clearDefaultDimensions();
    this.metrics.setDefaultDimensions({ [DimensionName.Region]: config.region });
  }

  /** One record per target, so that each carries its own Target dimension. */
  published(results: readonly ProbeResult[]): void {
    for (const result of results) {
      this.metrics.addDimensions({ [DimensionName.Target]: targetKey(result.target) });
      this.metrics.addMetric(MetricName.ProbeSuccess, MetricUnit.Count, result.ok ? 1 : 0);
      if (result.firstTokenMs !== undefined) this.metrics.addMetric(MetricName.ProbeTimeToFirstToken, MetricUnit.Milliseconds, result.firstTokenMs);
      this.metrics.publishStoredMetrics();
    }
  }
}
