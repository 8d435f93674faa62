/**
 * Finds an agent's regions in Route 53 by the tags AgentRouting puts on every
 * health check it creates (lib/routing/routing-tags.ts), never by hard-coded ids, and
 * evaluates each region's health as Route 53 does.
 *
 * A region may have several tagged health checks (an HTTPS check, an alarm
 * check, and a CALCULATED check combining them). The ones Route 53 records
 * point at are the region's *routing checks*: its tagged health checks that
 * are not the child of another of its tagged health checks. Draining inverts
 * the routing checks; their children are left alone.
 */
import { RoutingTag } from '../../lib/routing/routing-tags';
import { AgentctlError, ExitCode } from './exit-codes';
import { HealthCheckNode, HealthEvaluator, HealthState, HealthVerdict, routedState, summarizeObservations, toNode } from './health';
import { LAST_CHANGE_TAG, LastChange, parseLastChange } from './last-change';
import type { Route53Api } from './route53-api';

export interface RoutingCheck {
  readonly node: HealthCheckNode;
  /** What the checkers see at the endpoint. */
  readonly endpoint: HealthVerdict;
  /** What Route 53 routes on (after Inverted and Disabled). */
  readonly route53: HealthState;
  /** Inverted and enabled: Route 53 treats a healthy endpoint as unhealthy. */
  readonly drained: boolean;
}

export type DrainState = 'no' | 'partly' | 'yes';

export interface RegionState {
  readonly agent: string;
  readonly jurisdiction: string;
  readonly region: string;
  readonly routingChecks: readonly RoutingCheck[];
  readonly endpoint: HealthVerdict;
  readonly route53: HealthState;
  readonly drained: DrainState;
  readonly lastChange?: LastChange;
}

export interface Fleet {
  readonly regions: readonly RegionState[];
  readonly evaluator: HealthEvaluator;
  /** Things an operator should know (health checks with incomplete tags, unreadable statuses). */
  readonly warnings: readonly string[];
}

export interface JurisdictionView {
  readonly agent: string;
  readonly jurisdiction: string;
  readonly regions: readonly RegionState[];
  /** Every region is unhealthy to Route 53, so it answers with all of them. */
  readonly failOpen: boolean;
}

/** Whether Route 53 answers with this region's records; undefined when its status is unknown. */
export function receivesTraffic(region: RegionState, view: JurisdictionView): boolean | undefined {
  if (view.failOpen) return true;
  return region.route53 === 'unknown' ? undefined : region.route53 === 'healthy';
}

/** A region another region's traffic can safely move to: in service and seen healthy. */
export function canServe(region: RegionState): boolean {
  return region.drained === 'no' && region.endpoint.state === 'healthy';
}

export function jurisdictionViews(regions: readonly RegionState[]): JurisdictionView[] {
  const groups = new Map<string, RegionState[]>();
  for (const region of regions) {
    const key = `${region.agent}\u0000${region.jurisdiction}`;
    groups.set(key, [...(groups.get(key) ?? []), region]);
  }
  return [...groups.values()].map((members) => ({
    agent: members[0].agent,
    jurisdiction: members[0].jurisdiction,
    regions: members,
    failOpen: members.every((member) => member.route53 === 'unhealthy'),
  }));
}

/** The jurisdiction view a region of `regions` belongs to. */
export function jurisdictionOf(regions: readonly RegionState[], region: RegionState): JurisdictionView {
  const view = jurisdictionViews(regions).find((candidate) => candidate.regions.includes(region));
  if (!view) throw new Error(`${region.region} is not among the regions given`);
  return view;
}

/** Reads every health check of the account, keeps the agent's, and evaluates them. */
export async function discoverFleet(api: Route53Api, agent: string | undefined): Promise<Fleet> {
  const nodes = new Map((await api.listHealthChecks()).map((healthCheck) => [healthCheck.Id ?? '', toNode(healthCheck)] as const));
  const tags = await api.listTags([...nodes.keys()]);
  const warnings: string[] = [];

  const agentsFound = new Set<string>();
  const groups = new Map<string, { agent: string; region: string; jurisdiction: string; members: HealthCheckNode[] }>();
  for (const node of nodes.values()) {
    const nodeTags = tags.get(node.id) ?? {};
    const nodeAgent = nodeTags[RoutingTag.agent];
    if (nodeAgent === undefined) continue;
    agentsFound.add(nodeAgent);
    if (agent !== undefined && nodeAgent !== agent) continue;
    const region = nodeTags[RoutingTag.region];
    const jurisdiction = nodeTags[RoutingTag.jurisdiction];
    if (!region || !jurisdiction) {
      warnings.push(`Health check ${node.id} of agent ${nodeAgent} has no ${!region ? RoutingTag.region : RoutingTag.jurisdiction} tag; ignored.`);
      continue;
    }
    const key = `${nodeAgent}\u0000${region}`;
    const group = groups.get(key) ?? { agent: nodeAgent, region, jurisdiction, members: [] };
    group.members.push(node);
    groups.set(key, group);
  }
  if (groups.size === 0) throw noHealthChecksError(agent, agentsFound);

  const routing = [...groups.values()].map((group) => {
    const memberIds = new Set(group.members.map((member) => member.id));
    const childIds = new Set(group.members.flatMap((member) => member.children.filter((child) => memberIds.has(child))));
    return { ...group, roots: group.members.filter((member) => !childIds.has(member.id)) };
  });

  const observed = new Map<string, HealthVerdict>();
  const evaluator = new HealthEvaluator(nodes, observed);
  const leaves = new Set(routing.flatMap((group) => group.roots.flatMap((root) => evaluator.observedLeaves(root))));
  for (const leaf of leaves) {
    try {
      observed.set(leaf.id, summarizeObservations(await api.getHealthCheckStatus(leaf.id)));
    } catch (error) {
      if (!(error instanceof AgentctlError) || error.exitCode !== ExitCode.route53Error) throw error;
      warnings.push(`Status of health check ${leaf.id} is unknown: ${error.message}`);
    }
  }

  const regions = routing.map((group) => {
    const routingChecks = group.roots.map((node) => {
      const endpoint = evaluator.endpointVerdict(node);
      return { node, endpoint, route53: routedState(node, endpoint.state), drained: node.inverted && !node.disabled };
    });
    const changes = group.roots.flatMap((node) => {
      const change = parseLastChange(tags.get(node.id)?.[LAST_CHANGE_TAG]);
      return change ? [change] : [];
    });
    return {
      agent: group.agent,
      jurisdiction: group.jurisdiction,
      region: group.region,
      routingChecks,
      endpoint: combineVerdicts(routingChecks.map((check) => check.endpoint)),
      route53: combineStates(routingChecks.map((check) => check.route53)),
      drained: drainState(routingChecks),
      lastChange: changes.sort((a, b) => b.at.getTime() - a.at.getTime())[0],
    };
  });
  regions.sort((a, b) => a.agent.localeCompare(b.agent) || a.jurisdiction.localeCompare(b.jurisdiction) || a.region.localeCompare(b.region));
  return { regions, evaluator, warnings };
}

function noHealthChecksError(agent: string | undefined, agentsFound: ReadonlySet<string>): AgentctlError {
  const found = agentsFound.size > 0 ? ` Agents found: ${[...agentsFound].sort().join(', ')}.` : '';
  const which = agent === undefined ? `a ${RoutingTag.agent} tag` : `${RoutingTag.agent}=${agent}`;
  return new AgentctlError(
    ExitCode.noHealthChecks,
    `No Route 53 health check carries ${which} (with ${RoutingTag.region} and ${RoutingTag.jurisdiction}).${found}\n` +
      'agentctl finds the health checks that AgentRouting tags; check --agent, and that your credentials are for the account the agent is deployed in.',
  );
}

/** A region is healthy only if all its routing checks are; unhealthy if any is. */
function combineStates(states: readonly HealthState[]): HealthState {
  if (states.includes('unhealthy')) return 'unhealthy';
  return states.every((state) => state === 'healthy') ? 'healthy' : 'unknown';
}

function combineVerdicts(verdicts: readonly HealthVerdict[]): HealthVerdict {
  const times = verdicts.flatMap((verdict) => (verdict.lastCheckedAt ? [verdict.lastCheckedAt.getTime()] : []));
  return {
    state: combineStates(verdicts.map((verdict) => verdict.state)),
    basis: verdicts.map((verdict) => verdict.basis).join('; '),
    lastCheckedAt: times.length > 0 ? new Date(Math.max(...times)) : undefined,
  };
}

function drainState(checks: readonly RoutingCheck[]): DrainState {
  const drained = checks.filter((check) => check.drained).length;
  return drained === 0 ? 'no' : drained === checks.length ? 'yes' : 'partly';
}
