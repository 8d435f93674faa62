import { CONFIG_ENV_VAR, loadRuntimeConfig, ON_BEHALF_CALLERS_ENV_VAR, validateRuntimeConfig, type RuntimeConfigInput } from '../../lambda/agent/config';

const valid: RuntimeConfigInput = {
  region: 'eu-west-1',
  jurisdiction: { name: 'eu', regions: ['eu-west-1', 'eu-central-1'], geography: 'eu', restricted: true },
  chain: [{ modelId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'eu-west-1', tier: 'primary' }],
  table: { name: 'agent-conversations-eu', homeRegion: 'eu-west-1' },
};

test('a minimal configuration gets documented defaults', () => {
  const config = validateRuntimeConfig(valid);

  expect(config.deadlines).toEqual({
    connectTimeoutMs: 1000,
    firstTokenTimeoutMs: 5000,
    idleTimeoutMs: 10000,
    totalBudgetMs: 60000,
    reserveMs: 3000,
    stateTimeoutMs: 2000,
  });
  expect(config.breaker).toEqual({ failureThreshold: 3, cooldownMs: 30000 });
  expect(config.observability).toEqual({ metricsNamespace: 'MultiRegionAgent', serviceName: 'multi-region-agent', logMessageText: false });
  expect(config.table.historyTurns).toBe(20);
});

test.each([
  ['a malformed region', { ...valid, region: 'europe' }, /region: must be an AWS region name/],
  ['a region outside the jurisdiction', { ...valid, region: 'us-east-1' }, /region: us-east-1 is not a region of jurisdiction eu/],
  ['a home region outside the jurisdiction', { ...valid, table: { name: 'agent-conversations-eu', homeRegion: 'us-east-1' } }, /table\.homeRegion/],
  ['an empty chain', { ...valid, chain: [] }, /chain: /],
  ['an unknown tier', { ...valid, chain: [{ modelId: 'm', region: 'eu-west-1', tier: 'best' }] }, /chain\.0\.tier/],
  ['a duplicate target', { ...valid, chain: [valid.chain[0], valid.chain[0]] }, /chain\.1: duplicate target/],
  ['a negative deadline', { ...valid, deadlines: { firstTokenTimeoutMs: -1 } }, /deadlines\.firstTokenTimeoutMs/],
  [
    'a reserve too short for the last turn write',
    { ...valid, deadlines: { reserveMs: 1000, stateTimeoutMs: 2000 } },
    /deadlines\.reserveMs.*at least deadlines\.stateTimeoutMs/,
  ],
  ['a non-URL endpoint', { ...valid, endpoints: { dynamodb: 'localhost' } }, /endpoints\.dynamodb/],
])('throws naming the field for %s', (_case, input, message) => {
  expect(() => validateRuntimeConfig(input)).toThrow(message);
});

test('a missing or non-JSON environment variable fails with a clear message', () => {
  expect(() => loadRuntimeConfig({})).toThrow(`${CONFIG_ENV_VAR} is not set`);
  expect(() => loadRuntimeConfig({ [CONFIG_ENV_VAR]: '{oops' })).toThrow(`${CONFIG_ENV_VAR} is not JSON`);
});

test('the on-behalf callers come from their own variable, checked like the rest; none unless given', () => {
  const config = JSON.stringify(valid);
  const role = 'arn:aws:iam::111122223333:role/chat-backend';

  expect(loadRuntimeConfig({ [CONFIG_ENV_VAR]: config }).onBehalfCallers).toEqual([]);
  expect(loadRuntimeConfig({ [CONFIG_ENV_VAR]: config, [ON_BEHALF_CALLERS_ENV_VAR]: JSON.stringify([role]) }).onBehalfCallers).toEqual([role]);
  expect(() => loadRuntimeConfig({ [CONFIG_ENV_VAR]: config, [ON_BEHALF_CALLERS_ENV_VAR]: '["chat-backend"]' })).toThrow(
    'onBehalfCallers.0: must be the ARN of an IAM role or user',
  );
  expect(() => loadRuntimeConfig({ [CONFIG_ENV_VAR]: config, [ON_BEHALF_CALLERS_ENV_VAR]: '[oops' })).toThrow(`${ON_BEHALF_CALLERS_ENV_VAR} is not JSON`);
});

test('the Lambda entry point fails its cold start on a bad configuration, naming the field', () => {
  // GIVEN
  const previous = process.env[CONFIG_ENV_VAR];
  process.env[CONFIG_ENV_VAR] = JSON.stringify({ ...valid, chain: [] });

  // WHEN / THEN
  try {
    // A fresh module registry: the entry point validates its configuration when it is first loaded.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- isolateModules runs synchronously, so import() cannot be used here.
    expect(() => jest.isolateModules(() => require('../../lambda/agent/index'))).toThrow(/Invalid agent runtime configuration: chain:/);
  } finally {
    if (previous === undefined) delete process.env[CONFIG_ENV_VAR];
    else process.env[CONFIG_ENV_VAR] = previous;
  }
});
