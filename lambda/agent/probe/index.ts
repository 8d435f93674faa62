/**
 * Lambda entry point of the scheduled probe (EventBridge Scheduler invokes
 * it, every minute by default). It reads the same configuration as the
 * region's runtime (AGENT_CONFIG: the chain, the jurisdiction, deadlines,
 * the shared-health table) and probes every target of the chain once.
 */
import { loadRuntimeConfig } from '../config';
import { createProbeRuntime } from './probe-runtime';

const probe = createProbeRuntime(loadRuntimeConfig());

export const handler = async (): Promise<{ probed: number; failed: string[] }> => {
  const results = await probe.run();
  return {
    probed: results.length,
    failed: results.filter((result) => !result.ok).map((result) => `${result.target.modelId}@${result.target.region}: ${result.error}`),
  };
};
