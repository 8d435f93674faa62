/**
 * The region's shared target health as one runtime uses it: its own
 * DynamoDB client in the runtime's region (the conversation client talks to
 * the home region), with one attempt per call, since a late answer is worth
 * nothing: the next refresh asks again. Imported only by runtimes whose
 * configuration has `sharedHealth` (optional-modules.ts).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { targetKey, type Clock } from '../chain/types';
import type { RuntimeConfig } from '../config';
import type { Telemetry } from '../telemetry';
import { DynamoHealthStore } from './dynamo-health-store';
import { HEALTH_RECORD_TTL_MS } from './health-record';
import { SharedTargetHealth } from './shared-target-health';

export function runtimeSharedHealth(
  config: RuntimeConfig,
  settings: NonNullable<RuntimeConfig['sharedHealth']>,
  telemetry: Telemetry,
  clock: Clock,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): { client: DynamoDBClient; shared: SharedTargetHealth } {
  const { deadlines } = config;
  const client = new DynamoDBClient({
    region: config.region,
    endpoint: config.endpoints?.dynamodb,
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: deadlines.connectTimeoutMs, requestTimeout: deadlines.stateTimeoutMs }),
  });
  const store = new DynamoHealthStore({
    client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName: settings.tableName,
    callTimeoutMs: deadlines.stateTimeoutMs,
  });
  const shared = new SharedTargetHealth({
    store,
    scope: config.region,
    environmentId: randomUUID(),
    targets: config.chain.map(targetKey),
    settings: {
      refreshMs: settings.refreshMs,
      // The writer's probe takes up to a first-token deadline, and its result a refresh to be written and another to be read.
      graceMs: deadlines.firstTokenTimeoutMs + 2 * settings.refreshMs,
      latencyShareMs: 60_000,
      latencyMaxAgeMs: 10 * 60_000,
      recordTtlMs: HEALTH_RECORD_TTL_MS,
      failureThreshold: config.breaker.failureThreshold,
      failureRunMs: config.breaker.cooldownMs,
      budgetWindowMs: config.retryBudget.windowMs,
    },
    clock,
    reporter: telemetry,
  });
  return { client, shared };
}
