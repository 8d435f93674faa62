/**
 * `agentctl drain REGION` and `agentctl restore REGION`.
 *
 * Draining inverts the region's routing health checks: Route 53 then considers
 * a healthy endpoint unhealthy and stops answering with the region's records.
 * Disabling would not drain: Route 53 treats a disabled health check as
 * healthy and keeps routing to it. A disabled routing check is therefore also
 * enabled when it is drained.
 *
 * Safety rules (each refusal says why; --force overrides them):
 * - never drain the last region that can serve a jurisdiction: with every
 *   record of a set unhealthy, Route 53 fails open and answers with all of
 *   them, drained ones included;
 * - never drain a region whose endpoint is failing (or unknown): an inverted
 *   health check of a failing endpoint reports healthy, which would pull
 *   traffic back to it.
 *
 * Every update carries the HealthCheckVersion that was read; if someone else
 * changed the health check in between, the state is read again and the
 * decision made again, a bounded number of times.
 */
import type { RegionCommandOptions } from './args';
import { AgentctlError, ExitCode } from './exit-codes';
import { canServe, discoverFleet, type Fleet, jurisdictionOf, receivesTraffic, type RegionState, type RoutingCheck } from './fleet';
import type { HealthCheckNode } from './health';
import { formatLastChange, LAST_CHANGE_TAG } from './last-change';
import type { HealthCheckChange, Route53Api } from './route53-api';
import { jurisdictionNotes, regionNotes } from './status';
import { type PollingContext, waitForCheckers } from './wait';

export type RegionAction = 'drain' | 'restore';

export interface RegionChangeOptions extends RegionCommandOptions {
  readonly action: RegionAction;
}

export interface RegionChangeContext extends PollingContext {
  readonly api: Route53Api;
  /** Recorded in the last-change tag. */
  readonly operator: string;
}

/** How often agentctl re-reads and re-decides after HealthCheckVersion conflicts. */
const MAX_CONFLICT_ATTEMPTS = 3;

interface PlannedUpdate {
  readonly check: RoutingCheck;
  readonly change: HealthCheckChange;
}

interface Conflict {
  readonly update: PlannedUpdate;
  /** Found on a retry: the change may be our own earlier attempt, applied although its answer was lost. */
  readonly onRetry: boolean;
}

export async function changeRegion(options: RegionChangeOptions, context: RegionChangeContext): Promise<ExitCode> {
  const { api, stdout, stderr } = context;
  let conflict: Conflict | undefined;
  for (let attempt = 1; attempt <= MAX_CONFLICT_ATTEMPTS; attempt += 1) {
    const fleet = await discoverFleet(api, options.agent);
    const target = selectRegion(fleet, options);
    const plan = planUpdates(target, options.action);
    // Our update may have been applied with only its answer lost: record it as if the answer had come.
    const own = ownChange(conflict, target, plan);
    if (own) await recordChange(own.update, own.newVersion, options.action, context);
    if (plan.length === 0) {
      if (own) return finish(target, fleet, options, context);
      stdout.write(`${alreadyDoneMessage(target, options.action)}\n`);
      return ExitCode.ok;
    }

    const refusals = options.action === 'drain' ? drainRefusals(target, fleet) : [];
    if (refusals.length > 0 && !options.force) {
      throw new AgentctlError(
        ExitCode.refused,
        `Refusing to drain ${target.region}:\n${refusals.map((reason) => `- ${reason}`).join('\n')}\nNothing changed. Pass --force to drain anyway.`,
      );
    }
    if (refusals.length > 0) stderr.write(`--force: draining ${target.region} despite:\n${refusals.map((reason) => `- ${reason}`).join('\n')}\n`);

    if (options.dryRun) {
      stdout.write(dryRunMessage(target, plan, options.action, fleet));
      return ExitCode.ok;
    }

    conflict = await applyUpdates(plan, options.action, context);
    if (conflict) {
      const why = conflict.onRetry
        ? 'answered a retried update with a version conflict (the first try may have been applied)'
        : 'changed while agentctl was updating it';
      stderr.write(`Health check ${conflict.update.check.node.id} of ${target.region} ${why}; reading it again.\n`);
      continue;
    }
    return finish(target, fleet, options, context);
  }
  throw new AgentctlError(
    ExitCode.conflict,
    `The health checks of ${options.region} kept changing while agentctl was updating them (${MAX_CONFLICT_ATTEMPTS} attempts). ` +
      'Someone else may be changing them: check with agentctl status before trying again.',
  );
}

function selectRegion(fleet: Fleet, options: RegionChangeOptions): RegionState {
  const matches = fleet.regions.filter((region) => region.region === options.region);
  if (matches.length === 0) {
    const known = [...new Set(fleet.regions.map((region) => region.region))].sort();
    const agents = [...new Set(fleet.regions.map((region) => region.agent))].sort();
    throw new AgentctlError(
      ExitCode.unknownRegion,
      `${options.region} is not a region of agent ${agents.join(', ')}: no health check is tagged with it. Known regions: ${known.join(', ')}.`,
    );
  }
  if (matches.length > 1) {
    throw new AgentctlError(
      ExitCode.usage,
      `Several agents run in ${options.region}: ${matches.map((region) => region.agent).join(', ')}. Choose one with --agent.`,
    );
  }
  return matches[0];
}

function planUpdates(target: RegionState, action: RegionAction): PlannedUpdate[] {
  return target.routingChecks.flatMap((check): PlannedUpdate[] => {
    const { inverted, disabled } = check.node;
    if (action === 'restore') return inverted ? [{ check, change: { inverted: false } }] : [];
    if (inverted && !disabled) return [];
    return [{ check, change: { inverted: true, ...(disabled ? { disabled: false } : {}) } }];
  });
}

/** Why draining `target` would be unsafe; empty when it is safe. */
function drainRefusals(target: RegionState, fleet: Fleet): string[] {
  const reasons: string[] = [];
  if (target.endpoint.state === 'unhealthy') {
    reasons.push(
      `its endpoint is failing (${target.endpoint.basis}), so Route 53 already sends it no traffic. Draining inverts its health check, ` +
        'and an inverted check of a failing endpoint reports healthy: Route 53 would send traffic back to it.',
    );
  } else if (target.endpoint.state === 'unknown') {
    reasons.push(
      `Route 53 gives no clear status for it (${target.endpoint.basis}); if its endpoint is failing, an inverted health check would report healthy and draw traffic to it.`,
    );
  }
  const others = jurisdictionOf(fleet.regions, target).regions.filter((region) => region !== target);
  if (!others.some(canServe)) {
    const otherStates = others.map((region) => `${region.region}: ${region.drained === 'no' ? region.endpoint.state : 'drained'}`);
    reasons.push(
      `it is the last region that can serve jurisdiction ${target.jurisdiction}${otherStates.length > 0 ? ` (${otherStates.join(', ')})` : ''}. ` +
        'When every record of a set is unhealthy, Route 53 fails open and answers with all of them, drained ones included, ' +
        `so ${target.jurisdiction} traffic would come back unpredictably instead of leaving ${target.region}.`,
    );
  }
  return reasons;
}

/** Applies the plan in order; returns the update that met a health check changed under us, if any. */
async function applyUpdates(plan: readonly PlannedUpdate[], action: RegionAction, context: RegionChangeContext): Promise<Conflict | undefined> {
  for (const update of plan) {
    const { node } = update.check;
    const newVersion = await context.api.updateHealthCheck(node.id, node.version, update.change);
    if (newVersion === 'conflict' || newVersion === 'conflict-on-retry') return { update, onRetry: newVersion === 'conflict-on-retry' };
    await recordChange(update, newVersion, action, context);
  }
  return undefined;
}

/**
 * The conflicting update and the version it made, if the conflict was our own
 * update: met on a retry, and the health check is now exactly one version on
 * and as we asked (the new plan no longer needs to change it).
 */
function ownChange(
  conflict: Conflict | undefined,
  target: RegionState,
  plan: readonly PlannedUpdate[],
): { update: PlannedUpdate; newVersion: number } | undefined {
  if (!conflict?.onRetry) return undefined;
  const sent = conflict.update.check.node;
  if (plan.some((update) => update.check.node.id === sent.id)) return undefined;
  const now = target.routingChecks.find((check) => check.node.id === sent.id)?.node;
  return now?.version === sent.version + 1 ? { update: conflict.update, newVersion: now.version } : undefined;
}

/** Reports an applied update and records who made it in the last-change tag. */
async function recordChange({ check: { node }, change }: PlannedUpdate, newVersion: number, action: RegionAction, context: RegionChangeContext): Promise<void> {
  context.stdout.write(`${describeChange(node, change)}: done (version ${node.version} → ${newVersion}).\n`);
  const lastChange = formatLastChange({ action: action === 'drain' ? 'drained' : 'restored', by: context.operator, at: context.now() });
  try {
    await context.api.tagHealthCheck(node.id, LAST_CHANGE_TAG, lastChange);
  } catch (error) {
    // The drain or restore itself succeeded; only the record of who did it is missing.
    context.stderr.write(`Warning: could not record the change in tag ${LAST_CHANGE_TAG} of ${node.id}: ${(error as Error).message}\n`);
  }
}

/** After the change: what it does and, with --wait, until the checkers have reported what Route 53 makes of it. */
async function finish(target: RegionState, fleet: Fleet, options: RegionChangeOptions, context: RegionChangeContext): Promise<ExitCode> {
  context.stdout.write(doneMessage(target, options.action, fleet));
  if (!options.wait) return ExitCode.ok;
  const leaves = target.routingChecks.flatMap((check) => fleet.evaluator.observedLeaves(check.node));
  await waitForCheckers(context.api, leaves, { ...context, region: target.region, timeoutSeconds: options.timeoutSeconds });
  return reportAfterWait(options, context);
}

function describeChange(node: HealthCheckNode, change: HealthCheckChange): string {
  const verbs = [change.disabled === false ? 'enable' : undefined, change.inverted ? 'invert' : 'un-invert'].filter(Boolean);
  return `${verbs.join(' and ')} health check ${node.id} (${node.target})`.replace(/^./, (first) => first.toUpperCase());
}

function alreadyDoneMessage(target: RegionState, action: RegionAction): string {
  const ids = target.routingChecks.map((check) => check.node.id).join(', ');
  return action === 'drain'
    ? `${target.region} is already drained (health check ${ids} inverted); nothing changed.`
    : `${target.region} is not drained (health check ${ids} not inverted); nothing changed.`;
}

/** The regions of the target's jurisdiction that traffic can move to. */
function servingOthers(target: RegionState, fleet: Fleet): string {
  const others = jurisdictionOf(fleet.regions, target).regions.filter((region) => region !== target && canServe(region));
  return others.length > 0 ? others.map((region) => region.region).join(', ') : 'none (Route 53 fails open)';
}

function dryRunMessage(target: RegionState, plan: readonly PlannedUpdate[], action: RegionAction, fleet: Fleet): string {
  const lines = [
    `Dry run: would ${action} ${target.region} (agent ${target.agent}, jurisdiction ${target.jurisdiction}):`,
    ...plan.map(({ check, change }) => `  ${describeChange(check.node, change)} at version ${check.node.version}`),
  ];
  if (action === 'drain') lines.push(`${target.jurisdiction} traffic would go to: ${servingOthers(target, fleet)}.`);
  lines.push('Nothing changed.');
  return `${lines.join('\n')}\n`;
}

function doneMessage(target: RegionState, action: RegionAction, fleet: Fleet): string {
  const intervals = [...new Set(target.routingChecks.flatMap((check) => fleet.evaluator.observedLeaves(check.node)).map((leaf) => leaf.requestInterval ?? 30))];
  const timing =
    `Route 53 applies it as its checkers report (every ${intervals.join('/')} s); DNS resolvers keep cached answers ` +
    "for the record's TTL (for alias records, the TTL of the AWS resource they point to).";
  if (action === 'drain') {
    return [
      `Drained ${target.region} (agent ${target.agent}, jurisdiction ${target.jurisdiction}). ${timing}`,
      `Streams already open to ${target.region} run to completion there; new ${target.jurisdiction} requests go to: ${servingOthers(target, fleet)}.`,
      '',
    ].join('\n');
  }
  const failing =
    target.endpoint.state === 'unhealthy' ? ` Its endpoint is failing (${target.endpoint.basis}): Route 53 sends it no traffic until it recovers.` : '';
  return `Restored ${target.region} (agent ${target.agent}, jurisdiction ${target.jurisdiction}). ${timing}${failing}\n`;
}

/** After --wait: what Route 53 now makes of the region, read afresh. */
async function reportAfterWait(options: RegionChangeOptions, context: RegionChangeContext): Promise<ExitCode> {
  const fleet = await discoverFleet(context.api, options.agent);
  const region = selectRegion(fleet, options);
  const view = jurisdictionOf(fleet.regions, region);
  const traffic = receivesTraffic(region, view);
  context.stdout.write(
    `Route 53 now considers ${region.region} ${region.route53}: it ${traffic === undefined ? 'may or may not receive' : traffic ? 'receives' : 'receives no'} new traffic ` +
      `(endpoint ${region.endpoint.state}, ${region.endpoint.basis}; drained: ${region.drained}).\n`,
  );
  const notes = [...jurisdictionNotes(view), ...regionNotes(region)];
  for (const note of notes) context.stderr.write(`! ${note}\n`);
  return ExitCode.ok;
}
