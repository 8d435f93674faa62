/**
 * Route 53 health checks, locally: every interval each region's `/health`
 * is requested as the deployed HTTPS health check requests it, and the
 * region's status is published as Route 53 publishes it, `AWS/Route53`
 * `HealthCheckStatus` (1 healthy, 0 not) per `HealthCheckId`, in us-east-1.
 * The interval and failure threshold are the synthesized ones (scaled by
 * the playground's timeScale): a region turns unhealthy after `threshold`
 * failed checks in a row, and healthy again after as many good ones. One
 * checker stands for Route 53's many. Health-check ids only exist once
 * deployed; locally a region's is `local-<region>`.
 */
import type { Datum } from './cloudwatch/metric-store';

/** Route 53 publishes health-check metrics in us-east-1 only. */
const ROUTE53_METRICS_REGION = 'us-east-1';

export interface CheckedRegion {
  region: string;
  /** Base URL of the region's agent API. */
  url: string;
}

/** The deployed health checks' settings (AgentRouting's), and the records' TTL. */
export interface HealthCheckSettings {
  intervalSeconds: number;
  failureThreshold: number;
  /** How long resolvers keep an answer: the alias target's TTL. */
  ttlSeconds: number;
}

/** The last time a region was taken out: how long its failure took to move traffic, in deployed seconds. */
export interface Failover {
  region: string;
  /** When its first failed check ran (epoch ms, local time). */
  firstFailedAt: number;
  /** When it was declared unhealthy (epoch ms, local time). */
  unhealthyAt: number;
  /**
   * How long the checks took to call it unhealthy, in deployed seconds: from its first failed check to the
   * verdict (the local time × timeScale), plus the interval before that first failure, at most.
   */
  checksSeconds: number;
  /** checksSeconds plus the records' TTL: when resolvers stop sending users there. */
  trafficMovedSeconds: number;
}

export interface HealthCheckReport extends HealthCheckSettings {
  regions: Array<{ region: string; healthy: boolean; failuresInARow: number }>;
  lastFailover?: Failover;
}

interface RegionStatus {
  healthy: boolean;
  failuresInARow: number;
  successesInARow: number;
  firstFailedAt?: number;
}

export class HealthChecks {
  static healthCheckIdOf(region: string): string {
    return `local-${region}`;
  }

  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly status = new Map<string, RegionStatus>();
  private lastFailover?: Failover;

  constructor(
    private readonly regions: () => readonly CheckedRegion[],
    private readonly publish: (datum: Datum) => void,
    private readonly settings: HealthCheckSettings,
    /** A deployed second lasts 1 / timeScale local seconds. */
    private readonly timeScale = 1,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks at once, then every synthesized interval (scaled). */
  start(): void {
    this.running = this.checkAll();
    this.timer = setInterval(
      () => {
        this.running = this.checkAll();
      },
      (this.settings.intervalSeconds * 1000) / this.timeScale,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async checkAll(): Promise<void> {
    await Promise.all(
      this.regions().map(async ({ region, url }) => {
        const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
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
          value: this.record(region, ok) ? 1 : 0,
        });
      }),
    );
  }

  report(): HealthCheckReport {
    return {
      ...this.settings,
      regions: this.regions().map(({ region }) => {
        const status = this.status.get(region);
        return { region, healthy: status?.healthy ?? true, failuresInARow: status?.failuresInARow ?? 0 };
      }),
      lastFailover: this.lastFailover,
    };
  }

  /** One check's result: the region's status after it, as Route 53 decides it (threshold checks in a row). */
  private record(region: string, ok: boolean): boolean {
    const status = this.status.get(region) ?? { healthy: true, failuresInARow: 0, successesInARow: 0 };
    this.status.set(region, status);
    const { failureThreshold, intervalSeconds, ttlSeconds } = this.settings;
    if (ok) {
      status.failuresInARow = 0;
      status.firstFailedAt = undefined;
      status.successesInARow += 1;
      if (!status.healthy && status.successesInARow >= failureThreshold) status.healthy = true;
      return status.healthy;
    }
    status.successesInARow = 0;
    status.failuresInARow += 1;
    status.firstFailedAt ??= this.now();
    if (status.healthy && status.failuresInARow >= failureThreshold) {
      status.healthy = false;
      const unhealthyAt = this.now();
      // The region may have died up to an interval before its first failed check.
      const checksSeconds = Math.round(((unhealthyAt - status.firstFailedAt) * this.timeScale) / 1000) + intervalSeconds;
      this.lastFailover = {
        region,
        firstFailedAt: status.firstFailedAt,
        unhealthyAt,
        checksSeconds,
        trafficMovedSeconds: checksSeconds + ttlSeconds,
      };
    }
    return status.healthy;
  }
}
