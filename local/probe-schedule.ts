/**
 * The scheduled target probes, locally: every interval each region's probe
 * (the deployed probe function's wiring) calls every target of its chain on
 * the Bedrock and outside providers' emulators and writes to the region's shared health in the
 * embedded DynamoDB, as EventBridge Scheduler would have it do every minute.
 */
import type { RuntimeConfig } from '../lambda/agent/config';
import { createProbeRuntime, type ProbeRuntime } from '../lambda/agent/probe/probe-runtime';
import { LOCAL_CREDENTIALS } from './dynamodb';

export class ProbeSchedule {
  private probes: ProbeRuntime[];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Probes replaced by a swap, destroyed once the round they run ends. */
  private readonly retiring: Promise<void>[] = [];

  /** One probe per configuration, whose endpoints are the emulators' (as the region's runtime has them). */
  constructor(configs: readonly RuntimeConfig[]) {
    this.probes = configs.map((config) => createProbeRuntime(config, LOCAL_CREDENTIALS));
  }

  /**
   * Probes the targets of new configurations from now on (a swap under
   * `agentctl local --watch`), at once when on schedule; a round under way
   * finishes on the old probes, which are then destroyed.
   */
  replace(configs: readonly RuntimeConfig[]): void {
    const old = this.probes;
    const round = this.running;
    this.probes = configs.map((config) => createProbeRuntime(config, LOCAL_CREDENTIALS));
    this.retiring.push(
      (async () => {
        await round;
        for (const probe of old) probe.destroy();
      })(),
    );
    if (this.timer) this.running = this.probeAll();
  }

  /** Probes at once, then every `intervalMs`. */
  start(intervalMs: number): void {
    this.running = this.probeAll();
    this.timer = setInterval(() => {
      this.running = this.probeAll();
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await Promise.all(this.retiring);
    for (const probe of this.probes) probe.destroy();
  }

  async probeAll(): Promise<void> {
    await Promise.all(this.probes.map((probe) => probe.run()));
  }
}
