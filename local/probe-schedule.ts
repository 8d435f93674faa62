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
  private readonly probes: ProbeRuntime[];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  /** One probe per configuration, whose endpoints are the emulators' (as the region's runtime has them). */
  constructor(configs: readonly RuntimeConfig[]) {
    this.probes = configs.map((config) => createProbeRuntime(config, LOCAL_CREDENTIALS));
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
    for (const probe of this.probes) probe.destroy();
  }

  async probeAll(): Promise<void> {
    await Promise.all(this.probes.map((probe) => probe.run()));
  }
}
