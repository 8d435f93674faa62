/**
 * The Route 53 calls agentctl makes, through the real Route53Client, with one
 * retry policy of our own.
 *
 * The SDK's retries are off (maxAttempts: 1) so that exactly one layer retries:
 * bounded attempts with exponential backoff and full jitter, each retry
 * announced on stderr so an operator sees why a command is slow, and a
 * distinct exit code when Route 53 keeps throttling. Route 53's request-rate
 * limit is one token bucket per account, shared with every other tool and
 * console user in it, so throttling during an incident is likely; calls are
 * made one at a time.
 */
import {
  ChangeTagsForResourceCommand,
  GetHealthCheckStatusCommand,
  type HealthCheck,
  type HealthCheckObservation,
  HealthCheckVersionMismatch,
  ListHealthChecksCommand,
  ListTagsForResourcesCommand,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AgentctlError, ExitCode } from './exit-codes';

/** Route 53 is a global service; its API is signed for us-east-1 in the aws partition. */
const ROUTE53_SIGNING_REGION = 'us-east-1';
/** ListHealthChecks returns at most 1000 health checks per page. */
const LIST_PAGE_SIZE = 1000;
/** ListTagsForResources accepts at most 10 resource ids per call. */
const TAGS_BATCH_SIZE = 10;

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  /** Upper bound of the first retry's delay; doubles with each retry. */
  readonly baseDelayMs: number;
  /** Cap of any single delay. */
  readonly maxDelayMs: number;
}

/** Five attempts wait at most 0.25 + 0.5 + 1 + 2 s: under four seconds in the worst case. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 2000 };

export interface RetryContext {
  readonly policy: RetryPolicy;
  readonly sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1), for jitter. */
  readonly random: () => number;
  /** Where retry notices go (stderr). */
  readonly notice: (message: string) => void;
}

export interface HealthCheckChange {
  readonly inverted?: boolean;
  readonly disabled?: boolean;
}

type FailureKind = 'credentials' | 'throttled' | 'transient' | 'fatal';

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $fault?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const THROTTLING_CODES = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete']);
/** Socket errors; matched in the message too, because the SDK may wrap a socket error into a bare message. */
const NETWORK_ERROR = /\b(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)\b/;

function classify(error: unknown): FailureKind {
  const sdkError = error as SdkError;
  if (sdkError.name === 'CredentialsProviderError') return 'credentials';
  if (sdkError.name && THROTTLING_CODES.has(sdkError.name)) return 'throttled';
  const status = sdkError.$metadata?.httpStatusCode;
  if ((status !== undefined && status >= 500) || sdkError.$fault === 'server') return 'transient';
  if (sdkError.name === 'TimeoutError' || NETWORK_ERROR.test(`${sdkError.code ?? ''} ${sdkError.message ?? ''}`)) return 'transient';
  return 'fatal';
}

function describe(error: unknown): string {
  const sdkError = error as SdkError;
  const status = sdkError.$metadata?.httpStatusCode;
  return `${sdkError.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${sdkError.message ?? String(error)}`;
}

/** Full jitter: a random delay up to the exponential bound, so many clients do not retry in step. */
function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(random() * bound);
}

export class Route53Api {
  private readonly client: Route53Client;

  constructor(
    endpoint: string | undefined,
    private readonly retry: RetryContext,
  ) {
    this.client = new Route53Client({
      region: ROUTE53_SIGNING_REGION,
      endpoint,
      maxAttempts: 1,
      // Bounded so that a black-holed connection fails (and is retried) instead of hanging an incident.
      requestHandler: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 10000 }),
    });
  }

  destroy(): void {
    this.client.destroy();
  }

  /** Every health check in the account, following NextMarker. */
  async listHealthChecks(): Promise<HealthCheck[]> {
    const healthChecks: HealthCheck[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('ListHealthChecks', () => this.client.send(new ListHealthChecksCommand({ Marker: marker, MaxItems: LIST_PAGE_SIZE })));
      healthChecks.push(...(page.HealthChecks ?? []));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker);
    return healthChecks;
  }

  /** The tags of the given health checks, in batches of ten. */
  async listTags(healthCheckIds: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const tags = new Map<string, Record<string, string>>();
    for (let start = 0; start < healthCheckIds.length; start += TAGS_BATCH_SIZE) {
      const batch = healthCheckIds.slice(start, start + TAGS_BATCH_SIZE);
      const { ResourceTagSets } = await this.call('ListTagsForResources', () =>
        this.client.send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: batch })),
      );
      for (const set of ResourceTagSets ?? []) {
        if (!set.ResourceId) continue;
        tags.set(set.ResourceId, Object.fromEntries((set.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])));
      }
    }
    return tags;
  }

  async getHealthCheckStatus(healthCheckId: string): Promise<HealthCheckObservation[]> {
    const { HealthCheckObservations } = await this.call('GetHealthCheckStatus', () =>
      this.client.send(new GetHealthCheckStatusCommand({ HealthCheckId: healthCheckId })),
    );
    return HealthCheckObservations ?? [];
  }

  /**
   * Updates a health check if it is still at `version` (optimistic concurrency).
   * Returns the new version, or 'conflict' when someone changed it in between:
   * 'conflict-on-retry' when that was only found on a retry, so the change may
   * be our own earlier attempt, applied although its answer was lost.
   */
  async updateHealthCheck(healthCheckId: string, version: number, change: HealthCheckChange): Promise<number | 'conflict' | 'conflict-on-retry'> {
    let attempts = 0;
    try {
      const { HealthCheck } = await this.call('UpdateHealthCheck', () => {
        attempts += 1;
        return this.client.send(
          new UpdateHealthCheckCommand({ HealthCheckId: healthCheckId, HealthCheckVersion: version, Inverted: change.inverted, Disabled: change.disabled }),
        );
      });
      return HealthCheck?.HealthCheckVersion ?? version + 1;
    } catch (error) {
      if (error instanceof HealthCheckVersionMismatch) return attempts > 1 ? 'conflict-on-retry' : 'conflict';
      throw error;
    }
  }

  async tagHealthCheck(healthCheckId: string, key: string, value: string): Promise<void> {
    await this.call('ChangeTagsForResource', () =>
      this.client.send(new ChangeTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: healthCheckId, AddTags: [{ Key: key, Value: value }] })),
    );
  }

  /**
   * Runs one API call with bounded retries of throttling, 5xx and network
   * errors. A version mismatch is returned to the caller untouched; every other
   * failure becomes an AgentctlError with its exit code.
   */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    const { policy, sleep, random, notice } = this.retry;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        if (error instanceof HealthCheckVersionMismatch) throw error;
        const kind = classify(error);
        if (kind === 'credentials') {
          throw new AgentctlError(
            ExitCode.noCredentials,
            `No AWS credentials: ${(error as Error).message}\n` +
              'agentctl uses the AWS SDK default credential chain. Set AWS_PROFILE (then `aws sso login` if it uses SSO), ' +
              'or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is available.',
          );
        }
        if (kind === 'fatal') throw new AgentctlError(ExitCode.route53Error, `Route 53 ${operation} failed: ${describe(error)}`);
        if (attempt >= policy.maxAttempts) {
          throw kind === 'throttled'
            ? new AgentctlError(
                ExitCode.throttled,
                `Route 53 kept throttling ${operation} (${describe(error)}) after ${attempt} attempts. ` +
                  'The account-wide Route 53 API limit is shared with other tools; nothing further was changed. Try again shortly.',
              )
            : new AgentctlError(ExitCode.route53Error, `Route 53 ${operation} failed after ${attempt} attempts: ${describe(error)}`);
        }
        const delayMs = backoffDelayMs(attempt, policy, random);
        const reason = kind === 'throttled' ? `throttled ${operation}` : `${operation} failed (${describe(error)})`;
        notice(`Route 53 ${reason}; retry ${attempt} of ${policy.maxAttempts - 1} in ${(delayMs / 1000).toFixed(1)} s`);
        await sleep(delayMs);
      }
    }
  }
}
