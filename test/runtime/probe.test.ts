/**
 * The scheduled probe against the Bedrock emulator and the embedded
 * DynamoDB, through the real SDK clients: one minimal call per target, the
 * results as EMF records and, for the targets that answered, in the shared
 * health table.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { BedrockClients, bedrockInvoker } from '../../lambda/agent/bedrock';
import { systemClock } from '../../lambda/agent/chain/types';
import { validateRuntimeConfig, type ChainTarget } from '../../lambda/agent/config';
import { DynamoHealthStore } from '../../lambda/agent/health/dynamo-health-store';
import { ProbeMetrics } from '../../lambda/agent/probe/probe-metrics';
import { TargetProber } from '../../lambda/agent/probe/target-prober';
import { BedrockEmulator } from '../../local/bedrock-emulator';
import { LOCAL_CREDENTIALS, LocalDynamoDb } from '../../local/dynamodb';
import { CapturedOutput, CLAUDE, EU_CENTRAL, EU_WEST, euConfig, NOVA, US_EAST } from './harness';

const HEALTH_TABLE = 'probe-target-health';
const EU = { name: 'eu', regions: [EU_WEST, EU_CENTRAL], geography: 'eu' as const, restricted: true };
const CHAIN: ChainTarget[] = [
  { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
  { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
  { modelId: NOVA, region: EU_WEST, tier: 'model-fallback' },
];

let emulator: BedrockEmulator;
let dynamo: LocalDynamoDb;
let bedrock: BedrockClients;
let output: CapturedOutput;

beforeEach(async () => {
  output = new CapturedOutput();
  emulator = await BedrockEmulator.start({ regions: [EU_WEST, EU_CENTRAL, US_EAST] });
  dynamo = await LocalDynamoDb.start();
  await dynamo.createHealthTable(HEALTH_TABLE);
  bedrock = new BedrockClients({ connectTimeoutMs: 1000, streamIdleTimeoutMs: 5000, endpoints: emulator.endpoints, credentials: LOCAL_CREDENTIALS });
});

afterEach(async () => {
  bedrock.destroy();
  await emulator.close();
  await dynamo.close();
  output.restore();
});

function prober(targets: ChainTarget[] = CHAIN) {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: EU_WEST, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS }));
  return new TargetProber({
    targets,
    jurisdiction: EU,
    invoke: bedrockInvoker(bedrock),
    firstTokenTimeoutMs: 500,
    clock: systemClock,
    health: { store: new DynamoHealthStore({ client, tableName: HEALTH_TABLE, callTimeoutMs: 1000 }), scope: EU_WEST, recordTtlMs: 3_600_000 },
  });
}

async function healthRecords(): Promise<Array<Record<string, unknown>>> {
  const client = new DynamoDBClient({ region: EU_WEST, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
  try {
    return ((await client.send(new ScanCommand({ TableName: HEALTH_TABLE }))).Items ?? []).map((item) => unmarshall(item));
  } finally {
    client.destroy();
  }
}

test('each target gets one call asking for one token with a fixed prompt; failures are told apart, and only successes reach the shared health', async () => {
  // GIVEN a healthy primary, a regional fallback answering 503 and a degraded model that stalls past the deadline
  emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { status: 503 } });
  emulator.injectFault({ region: EU_WEST, model: NOVA, fault: { stallMs: 5000 } });

  // WHEN the probe runs
  const results = await prober().probeAll();

  // THEN each target was called once, with nothing but the probe's own one-word prompt and one output token
  expect(
    emulator
      .calls()
      .map((call) => `${call.modelId}@${call.region}`)
      .sort(),
  ).toEqual([`${CLAUDE}@${EU_CENTRAL}`, `${CLAUDE}@${EU_WEST}`, `${NOVA}@${EU_WEST}`].sort());
  for (const call of emulator.calls()) {
    expect(call.request).toMatchObject({ messages: [{ role: 'user', content: [{ text: 'ping' }] }], inferenceConfig: { maxTokens: 1 } });
    expect(call.request).not.toHaveProperty('system');
  }
  // AND the verdicts and first-token times
  const verdicts = Object.fromEntries(results.map((result) => [`${result.target.modelId}@${result.target.region}`, result]));
  expect(verdicts[`${CLAUDE}@${EU_WEST}`]).toMatchObject({ ok: true, firstTokenMs: expect.any(Number) });
  expect(verdicts[`${CLAUDE}@${EU_CENTRAL}`]).toMatchObject({ ok: false, error: 'ServiceUnavailableException' });
  expect(verdicts[`${NOVA}@${EU_WEST}`]).toMatchObject({ ok: false, error: 'FirstTokenTimeout' });
  // AND the shared health learned the primary answering, and nothing about the others
  const records = await healthRecords();
  expect(records).toEqual([
    expect.objectContaining({ scope: EU_WEST, target: `${CLAUDE}@${EU_WEST}`, state: 'closed', by: 'probe', firstTokenMs: expect.any(Number) }),
  ]);
});

test('the results are EMF records per target: success and time to first token, by region and target', async () => {
  // GIVEN one failing target
  emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { status: 503 } });
  const results = await prober().probeAll();

  // WHEN they are published
  new ProbeMetrics(validateRuntimeConfig(euConfig(emulator, dynamo))).published(results);

  // THEN one record per target, with the Target dimension
  const records = output.metrics(['Region', 'Target']);
  expect(records).toHaveLength(3);
  const success = Object.fromEntries(records.map((record) => [record.Target, record.ProbeSuccess]));
  expect(success).toEqual({ [`${CLAUDE}@${EU_WEST}`]: 1, [`${CLAUDE}@${EU_CENTRAL}`]: 0, [`${NOVA}@${EU_WEST}`]: 1 });
  expect(records.find((record) => record.Target === `${CLAUDE}@${EU_WEST}`)?.ProbeTimeToFirstToken).toEqual(expect.any(Number));
  expect(records.find((record) => record.Target === `${CLAUDE}@${EU_CENTRAL}`)).not.toHaveProperty('ProbeTimeToFirstToken');
});

test('a target outside the jurisdiction is never probed', async () => {
  const results = await prober([...CHAIN, { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: US_EAST, tier: 'regional-fallback' }]).probeAll();

  expect(results).toHaveLength(3);
  expect(emulator.calls({ region: US_EAST })).toEqual([]);
});
