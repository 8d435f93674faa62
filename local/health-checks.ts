/**
 * Route 53 health checks, locally: every interval each region's `/health`
 * is requested as the deployed HTTPS health check requests it, and the
 * result is published as Route 53 publishes it, `AWS/Route53`
 * `HealthCheckStatus` (1 healthy, 0 not) per `HealthCheckId`, in us-east-1.
 * One checker and no failure threshold: a region is unhealthy from its
 * first failed check. Health-check ids only exist once deployed; locally a
 * region's is `local-<region>`.
 */
import type { Datum } from './cloudwatch/metric-store';

/** Route 53 publishes health-check metrics in us-east-1 only. */
const ROUTE53_METRICS_REGION = 'us-east-1';

export interface CheckedRegion {
  region: string;
  /** Base URL of the region's agent API. */
  url: string;
}

export class HealthChecks {
  static healthCheckIdOf(region: string): string {
    return `local-${region}`;
  }

  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly regions: () => readonly CheckedRegion[],
    private readonly publish: (datum: Datum) => void,
  ) {}

  /** Checks at once, then every `intervalMs`. */
  start(intervalMs: number): void {
    this.running = this.checkAll();
    this.timer = setInterval(() => {
      this.running = this.checkAll();
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async checkAll(): Promise<void> {
    await Promise.all(
      this.regions().map(async ({ region, url }) => {
        const healthy = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
          async (response) => {
            await response.body?.cancel();
            return response.ok;
          },
          () => false,
        );
        this.publish({
          region: ROUTE53_METRICS_REGION,
          namespace: 'AWS/Route53',
          metricName: 'HealthCheckStatus',
          dimensions: { HealthCheckId: HealthChecks.healthCheckIdOf(region) },
          value: healthy ? 1 : 0,
        });
      }),
    );
  }
}
