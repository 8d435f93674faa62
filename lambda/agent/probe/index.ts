/**
 * Lambda entry point of the scheduled probe (EventBridge Scheduler invokes
 * it, every minute by default). It reads the same configuration as the
 * region's runtime (AGENT_CONFIG: the chain, the jurisdiction, deadlines,
 * the shared-health table) and probes every target of the chain once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BedrockClients, bedrockInvoker } from '../bedrock';
import { systemClock } from '../chain/types';
import { loadRuntimeConfig } from '../config';
import { DynamoHealthStore } from '../health/dynamo-health-store';
import { HEALTH_RECORD_TTL_MS } from '../health/health-record';
import { ProbeMetrics } from './probe-metrics';
import { TargetProber } from './target-prober';

const config = loadRuntimeConfig();
const { deadlines } = config;
const bedrock = new BedrockClients({
  connectTimeoutMs: deadlines.connectTimeoutMs,
  streamIdleTimeoutMs: deadlines.firstTokenTimeoutMs + 2000,
  endpoints: config.endpoints?.bedrock,
});
const health = config.sharedHealth && {
  store: new DynamoHealthStore({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: config.region, endpoint: config.endpoints?.dynamodb, maxAttempts: 2 })),
    tableName: config.sharedHealth.tableName,
    callTimeoutMs: deadlines.stateTimeoutMs,
  }),
  scope: config.region,
  recordTtlMs: HEALTH_RECORD_TTL_MS,
};
const prober = new TargetProber({
  targets: config.chain,
  jurisdiction: config.jurisdiction,
  invoke: bedrockInvoker(bedrock),
  firstTokenTimeoutMs: deadlines.firstTokenTimeoutMs,
  clock: systemClock,
  health,
});
const metrics = new ProbeMetrics(config);

export const handler = async (): Promise<{ probed: number; failed: string[] }> => {
  const results = await prober.probeAll();
  metrics.published(results);
  return {
    probed: results.length,
    failed: results.filter((result) => !result.ok).map((result) => `${result.target.modelId}@${result.target.region}: ${result.error}`),
  };
};
