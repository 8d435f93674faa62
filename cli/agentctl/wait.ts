/**
 * `--wait`: after a drain or restore, polls GetHealthCheckStatus until every
 * Route 53 checker has reported an observation newer than the one it had just
 * after the change, i.e. until Route 53 has evaluated the health check under
 * its new configuration. Bounded by --timeout; a progress line shows how many
 * checkers have reported.
 */
import type { HealthCheckObservation } from '@aws-sdk/client-route-53';
import { AgentctlError, ExitCode } from './exit-codes';
import type { HealthCheckNode } from './health';
import { type OutputStream, ProgressLine } from './output';
import type { Route53Api } from './route53-api';

/** Output, clock and pacing of a command that polls Route 53. */
export interface PollingContext {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Pause between two status polls. */
  readonly pollIntervalMs: number;
}

export interface WaitContext extends PollingContext {
  readonly region: string;
  readonly timeoutSeconds: number;
}

/** Latest CheckedTime per checker ("health check/checker region/checker IP"). */
type CheckerTimes = Map<string, number>;

async function readCheckerTimes(api: Route53Api, leaves: readonly HealthCheckNode[]): Promise<CheckerTimes> {
  const times: CheckerTimes = new Map();
  for (const leaf of leaves) {
    const observations: HealthCheckObservation[] = await api.getHealthCheckStatus(leaf.id);
    for (const observation of observations) {
      times.set(`${leaf.id}/${observation.Region}/${observation.IPAddress}`, observation.StatusReport?.CheckedTime?.getTime() ?? 0);
    }
  }
  return times;
}

export async function waitForCheckers(api: Route53Api, leaves: readonly HealthCheckNode[], context: WaitContext): Promise<void> {
  if (leaves.length === 0) {
    context.stdout.write(`Route 53 exposes no checker observations for ${context.region}'s health checks; nothing to wait for.\n`);
    return;
  }
  const baseline = await readCheckerTimes(api, leaves);
  const started = context.now().getTime();
  const timeoutMs = context.timeoutSeconds * 1000;
  const progress = new ProgressLine(context.stderr);
  let reported = 0;
  let total = baseline.size;
  for (;;) {
    const elapsedMs = context.now().getTime() - started;
    if (elapsedMs >= timeoutMs) {
      progress.finish();
      throw new AgentctlError(
        ExitCode.waitTimeout,
        `Timed out after ${context.timeoutSeconds} s: ${reported}/${total} Route 53 checkers had reported on ${context.region} since the change. ` +
          'The change itself is in place; follow it with agentctl status.',
      );
    }
    await context.sleep(Math.min(context.pollIntervalMs, timeoutMs - elapsedMs));
    const current = await readCheckerTimes(api, leaves);
    total = current.size;
    reported = [...current].filter(([checker, time]) => time > (baseline.get(checker) ?? -1)).length;
    const seconds = Math.round((context.now().getTime() - started) / 1000);
    progress.update(
      `Waiting for Route 53: ${reported}/${total} checkers have reported on ${context.region} since the change (${seconds} s, timeout ${context.timeoutSeconds} s)`,
      `${reported}/${total}`,
    );
    if (total > 0 && reported === total) {
      progress.finish();
      return;
    }
  }
}
