/**
 * The scheduled probe of every target of a region's chain: one minimal call
 * each (a fixed one-word prompt, one output token, no user data), in
 * parallel, each within the first-token deadline. A target that produces
 * its first output (or a complete empty answer) in time is up; its time to
 * first token is measured. Results go to metrics (so that a broken fallback
 * link is charted and alarmed before a user needs it) and, for the targets
 * that answered, to the region's shared health as a recovery with a
 * first-token time. A failed probe writes nothing there: one call is not
 * enough to open the region's breakers, which count users' calls.
 */
import { residencyViolation } from '../chain/residency';
import { targetKey, userText, type Clock, type InvokeTarget, type ModelRequest } from '../chain/types';
import type { ChainTarget, JurisdictionConfig } from '../config';
import type { HealthStore } from '../health/dynamo-health-store';
import { expiresAtSeconds } from '../expiry';

/** The whole request a probe sends: nothing of any user's. */
export const PROBE_REQUEST: ModelRequest = { messages: [userText('ping')], maxTokens: 1 };

/** The writer named in the shared records a probe writes. */
export const PROBE_WRITER = 'probe';

export interface ProbeResult {
  target: ChainTarget;
  ok: boolean;
  /** Time to the first output, when there was one. */
  firstTokenMs?: number;
  /** Why it failed: the error's name, or `FirstTokenTimeout`. */
  error?: string;
}

export interface TargetProberProps {
  targets: readonly ChainTarget[];
  jurisdiction: JurisdictionConfig;
  invoke: InvokeTarget;
  firstTokenTimeoutMs: number;
  clock: Clock;
  /** The region's shared health, when the runtime shares it. */
  health?: { store: HealthStore; scope: string; recordTtlMs: number };
}

export class TargetProber {
  constructor(private readonly props: TargetProberProps) {}

  /** Probes every target the residency guard allows, at once; never throws. */
  async probeAll(): Promise<ProbeResult[]> {
    const allowed = this.props.targets.filter((target) => residencyViolation(target, this.props.jurisdiction) === undefined);
    const results = await Promise.all(allowed.map((target) => this.probe(target)));
    await this.share(results);
    return results;
  }

  private async probe(target: ChainTarget): Promise<ProbeResult> {
    const { clock, firstTokenTimeoutMs } = this.props;
    const abort = new AbortController();
    const started = clock.now();
    const timer = setTimeout(() => abort.abort(), firstTokenTimeoutMs);
    try {
      for await (const event of this.props.invoke(target, PROBE_REQUEST, abort.signal)) {
        // Any output, or a stop with none (an empty answer), shows the target serving.
        if (event.type !== 'usage') return { target, ok: true, firstTokenMs: clock.now() - started };
      }
      // An aborted stream may end quietly instead of throwing.
      return { target, ok: false, error: abort.signal.aborted ? 'FirstTokenTimeout' : 'StreamError' };
    } catch (error) {
      return { target, ok: false, error: abort.signal.aborted ? 'FirstTokenTimeout' : ((error as Error).name ?? 'Error') };
    } finally {
      clearTimeout(timer);
      // The one token is all a probe wants: end the call.
      abort.abort();
    }
  }

  /** Writes the targets that answered as recovered, with their first-token times; a failed write is not the probe's failure. */
  private async share(results: readonly ProbeResult[]): Promise<void> {
    const { health, clock } = this.props;
    if (!health) return;
    const at = clock.now();
    const expiresAt = expiresAtSeconds(at, health.recordTtlMs);
    await Promise.allSettled(
      results
        .filter((result) => result.ok)
        .map((result) =>
          health.store.writeState(
            health.scope,
            targetKey(result.target),
            { state: 'closed', at, by: PROBE_WRITER, firstTokenMs: result.firstTokenMs },
            expiresAt,
          ),
        ),
    );
  }
}
