/**
 * Wires one region's probe from its configuration (the runtime's): the
 * runtime's target invoker (Bedrock, and outside providers with their
 * keys), the shared-health store when the region shares health, the prober
 * and its metrics. The Lambda entry point and the local playground
 * both build the probe here.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BedrockClients, bedrockInvoker } from '../bedrock';
import { systemClock } from '../chain/types';
import type { RuntimeConfig } from '../config';
import { DynamoHealthStore } from '../health/dynamo-health-store';
import { HEALTH_RECORD_TTL_MS } from '../health/health-record';
import { targetInvoker } from '../target-invoker';
import { ProbeMetrics } from './probe-metrics';
import { TargetProber, type ProbeResult } from './target-prober';

export interface ProbeRuntime {
  /** Probes every target once and publishes the results. */
  run(): Promise<ProbeResult[]>;
  destroy(): void;
}

export function createProbeRuntime(config: RuntimeConfig, credentials?: { accessKeyId: string; secretAccessKey: string }): ProbeRuntime {
  const { deadlines } = config;
  const bedrock = new BedrockClients({
    connectTimeoutMs: deadlines.connectTimeoutMs,
    streamIdleTimeoutMs: deadlines.firstTokenTimeoutMs + 2000,
    endpoints: config.endpoints?.bedrock,
    credentials,
  });
  const dynamo = new DynamoDBClient({ region: config.region, endpoint: config.endpoints?.dynamodb, credentials, maxAttempts: 2 });
  const health = config.sharedHealth && {
    store: new DynamoHealthStore({
      client: DynamoDBDocumentClient.from(dynamo),
      tableName: config.sharedHealth.tableName,
      callTimeoutMs: deadlines.stateTimeoutMs,
    }),
    scope: config.region,
    recordTtlMs: HEALTH_RECORD_TTL_MS,
  };
  const prober = new TargetProber({
    targets: config.chain,
    jurisdiction: config.jurisdiction,
    invoke: targetInvoker(config, bedrockInvoker(bedrock), systemClock, credentials),
    firstTokenTimeoutMs: deadlines.firstTokenTimeoutMs,
    clock: systemClock,
    health,
  });
  const metrics = new ProbeMetrics(config);
  return {
    run: async () => {
      const results = await prober.probeAll();
      metrics.published(results);
      return results;
    },
    destroy: () => {
      bedrock.destroy();
      dynamo.destroy();
    },
  };
}
