/**
 * How agentctl turns Route 53's raw data into a health verdict, following
 * Route 53's own rules as documented:
 * - An endpoint health check is healthy when more than 18% of its checkers
 *   report success (GetHealthCheckStatus gives each checker's last
 *   observation; a StatusReport.Status starting with "Success" counts).
 * - A CALCULATED health check is healthy when at least HealthThreshold of its
 *   children are healthy (GetHealthCheckStatus does not serve calculated checks,
 *   so their children are evaluated instead).
 * - Checkers report what they saw at the endpoint; Route 53 then applies
 *   Inverted (healthy ⇄ unhealthy) and Disabled (always healthy) to decide
 *   what it routes on.
 */
import type { HealthCheck, HealthCheckObservation } from '@aws-sdk/client-route-53';

const HEALTHY_CHECKER_FRACTION = 0.18;

export type HealthState = 'healthy' | 'unhealthy' | 'unknown';

export interface HealthVerdict {
  readonly state: HealthState;
  /** Why, in a few words: "16/16 checkers", "1 of 2 child checks healthy, 2 needed". */
  readonly basis: string;
  /** Newest observation behind the verdict. */
  readonly lastCheckedAt?: Date;
}

/** What agentctl knows about one health check. */
export interface HealthCheckNode {
  readonly id: string;
  readonly type: string;
  readonly version: number;
  readonly inverted: boolean;
  readonly disabled: boolean;
  readonly children: readonly string[];
  readonly healthThreshold?: number;
  /** Seconds between two checks by one checker (30, or 10 for fast checks); undefined for CALCULATED. */
  readonly requestInterval?: number;
  /** "https://eu-west-1.agent.example.com/health", or the type for non-endpoint checks. */
  readonly target: string;
}

export function toNode(healthCheck: HealthCheck): HealthCheckNode {
  const config = healthCheck.HealthCheckConfig;
  const type = config?.Type ?? 'UNKNOWN';
  const host = config?.FullyQualifiedDomainName ?? config?.IPAddress;
  const scheme = type.startsWith('HTTPS') ? 'https' : type.startsWith('HTTP') ? 'http' : 'tcp';
  const defaultPort = { https: 443, http: 80, tcp: undefined }[scheme];
  const port = config?.Port !== undefined && config.Port !== defaultPort ? `:${config.Port}` : '';
  return {
    id: healthCheck.Id ?? '',
    type,
    version: healthCheck.HealthCheckVersion ?? 1,
    inverted: config?.Inverted ?? false,
    disabled: config?.Disabled ?? false,
    children: config?.ChildHealthChecks ?? [],
    healthThreshold: config?.HealthThreshold,
    requestInterval: config?.RequestInterval,
    target: host ? `${scheme}://${host}${port}${config?.ResourcePath ?? ''}` : type,
  };
}

/** Health checks whose state comes from checker observations (everything but CALCULATED and ARC routing controls). */
function isObserved(node: HealthCheckNode): boolean {
  return node.type !== 'CALCULATED' && node.type !== 'RECOVERY_CONTROL';
}

/** Applies Route 53's >18% rule to one health check's checker observations. */
export function summarizeObservations(observations: readonly HealthCheckObservation[]): HealthVerdict {
  if (observations.length === 0) return { state: 'unknown', basis: 'no checker observations yet' };
  const healthy = observations.filter((observation) => observation.StatusReport?.Status?.startsWith('Success')).length;
  const times = observations.flatMap((observation) => (observation.StatusReport?.CheckedTime ? [observation.StatusReport.CheckedTime.getTime()] : []));
  return {
    state: healthy / observations.length > HEALTHY_CHECKER_FRACTION ? 'healthy' : 'unhealthy',
    basis: `${healthy}/${observations.length} checkers`,
    lastCheckedAt: times.length > 0 ? new Date(Math.max(...times)) : undefined,
  };
}

/** What Route 53 routes on, given what the checkers see. */
export function routedState(node: HealthCheckNode, endpoint: HealthState): HealthState {
  if (node.disabled) return 'healthy';
  if (!node.inverted || endpoint === 'unknown') return endpoint;
  return endpoint === 'healthy' ? 'unhealthy' : 'healthy';
}

/**
 * Evaluates health checks from their observations: `endpointVerdict` is what
 * the checkers see (before Inverted/Disabled), recursing through CALCULATED
 * checks whose children are evaluated as Route 53 routes on them.
 */
export class HealthEvaluator {
  constructor(
    private readonly nodes: ReadonlyMap<string, HealthCheckNode>,
    private readonly observed: ReadonlyMap<string, HealthVerdict>,
  ) {}

  endpointVerdict(node: HealthCheckNode): HealthVerdict {
    if (isObserved(node)) return this.observed.get(node.id) ?? { state: 'unknown', basis: `${node.type} status not readable` };
    if (node.type !== 'CALCULATED') return { state: 'unknown', basis: `${node.type} status not readable` };
    const children = node.children.map((id) => {
      const child = this.nodes.get(id);
      if (!child) return { state: 'unknown' as const, lastCheckedAt: undefined };
      const verdict = this.endpointVerdict(child);
      return { state: routedState(child, verdict.state), lastCheckedAt: verdict.lastCheckedAt };
    });
    const healthy = children.filter((child) => child.state === 'healthy').length;
    const unknown = children.filter((child) => child.state === 'unknown').length;
    const needed = node.healthThreshold ?? node.children.length;
    const state: HealthState = healthy >= needed ? 'healthy' : healthy + unknown >= needed ? 'unknown' : 'unhealthy';
    const times = children.flatMap((child) => (child.lastCheckedAt ? [child.lastCheckedAt.getTime()] : []));
    return {
      state,
      basis: `${healthy} of ${children.length} child checks healthy, ${needed} needed`,
      lastCheckedAt: times.length > 0 ? new Date(Math.max(...times)) : undefined,
    };
  }

  /** The observed health checks a verdict on `node` rests on (itself, or a calculated check's descendants). */
  observedLeaves(node: HealthCheckNode): HealthCheckNode[] {
    if (isObserved(node)) return [node];
    return node.children.flatMap((id) => {
      const child = this.nodes.get(id);
      return child ? this.observedLeaves(child) : [];
    });
  }
}
