/**
 * Outside providers in the chain, end to end: the runtime's provider
 * invoker against the OpenAI and Anthropic emulators, its keys read through
 * the real Secrets Manager client from the Secrets Manager emulator, after
 * Bedrock targets of the Bedrock emulator.
 */
import * as z from 'zod';
import { AnthropicEmulator } from '../../local/anthropic-emulator';
import { answerText } from '../../local/bedrock-model';
import type { ProviderFault } from '../../local/provider-emulator';
import { OpenAiEmulator } from '../../local/openai-emulator';
import { SecretsManagerEmulator } from '../../local/secrets-manager-emulator';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import type { ChainTarget, RuntimeConfigInput } from '../../lambda/agent/config';
import { optionalModules } from '../../lambda/agent/optional-modules';
import { answerOf, CLAUDE, EU_CENTRAL, EU_WEST, euConfig, postMessage, readConversation, startHarness, tableItems, US_EAST, type Harness } from './harness';

const US_CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const GPT = 'gpt-4o';
const SONNET = 'claude-sonnet-4-5';

let harness: Harness;
let openai: OpenAiEmulator;
let anthropic: AnthropicEmulator;
let secrets: SecretsManagerEmulator;

beforeEach(async () => {
  openai = await OpenAiEmulator.start({ apiKeys: ['sk-openai-1'] });
  anthropic = await AnthropicEmulator.start({ apiKeys: ['sk-ant-1'] });
  secrets = await SecretsManagerEmulator.start({ region: EU_WEST });
  secrets.create('openai-eu', 'sk-openai-1');
  secrets.create('openai-us', 'sk-openai-1');
  secrets.create('anthropic-us', 'sk-ant-1');
});

afterEach(async () => {
  await harness?.close();
  await Promise.all([openai.close(), anthropic.close(), secrets.close()]);
});

const openAiEu: ChainTarget = { modelId: GPT, region: EU_WEST, tier: 'provider-fallback', provider: { name: 'openai', residency: 'eu', secret: 'openai-eu' } };

const providerEndpoints = () => ({
  secretsmanager: secrets.endpoint,
  providers: {
    'openai:eu': openai.baseUrl('eu'),
    'openai:us': openai.baseUrl('us'),
    'openai:global': openai.baseUrl(),
    'anthropic:us': anthropic.baseUrl,
    'anthropic:global': anthropic.baseUrl,
  },
});

/** The EU runtime: Claude here and in eu-central-1, then OpenAI's EU residency. */
async function startEu(overrides: Partial<RuntimeConfigInput> = {}, chain?: ChainTarget[]): Promise<void> {
  harness = await startHarness((emulator, dynamo) => {
    const config = euConfig(emulator, dynamo, overrides);
    return {
      ...config,
      chain: chain ?? [config.chain[0], config.chain[1], openAiEu],
      prices: { ...config.prices, [GPT]: { inputPer1kTokens: 0.0025, outputPer1kTokens: 0.01 } },
      endpoints: { ...config.endpoints, ...providerEndpoints() },
    };
  });
}

/** The US runtime in us-east-1: Claude, then Anthropic's US inference, then OpenAI's US residency. */
async function startUs(): Promise<void> {
  harness = await startHarness((emulator, dynamo) => {
    const config = euConfig(emulator, dynamo);
    return {
      ...config,
      region: US_EAST,
      jurisdiction: { name: 'us', regions: [US_EAST], geography: 'us', restricted: true },
      chain: [
        { modelId: US_CLAUDE, region: US_EAST, tier: 'primary' },
        { modelId: SONNET, region: US_EAST, tier: 'provider-fallback', provider: { name: 'anthropic', residency: 'us', secret: 'anthropic-us' } },
        { modelId: GPT, region: US_EAST, tier: 'provider-fallback', provider: { name: 'openai', residency: 'us', secret: 'openai-us' } },
      ],
      table: { name: 'agent-conversations-eu', homeRegion: US_EAST },
      endpoints: { ...config.endpoints, ...providerEndpoints() },
    };
  });
}

const failBedrock = (fault: { status: number } | { stallMs: number }) => {
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault });
  harness.emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault });
};

describe('failover from Bedrock to an outside provider', () => {
  test.each([
    ['429', { status: 429 }, 'Throttled'],
    ['503', { status: 503 }, 'ServerError'],
    ['a first-token timeout', { stallMs: 3000 }, 'FirstTokenTimeout'],
  ])('every Bedrock target failing with %s is answered by OpenAI EU, and headers, events and metrics say so', async (_name, fault, reason) => {
    // GIVEN
    await startEu();
    failBedrock(fault);
    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-provider', { text: 'hello there' });
    // THEN
    expect(result.status).toBe(200);
    expect(result.headers.get('x-agent-path')).toBe('provider-fallback');
    expect(result.headers.get('x-agent-model')).toBe(GPT);
    expect(result.headers.get('x-agent-provider')).toBe('openai:eu');
    expect(result.headers.get('x-agent-degraded')).toBe('true');
    expect(answerOf(result.events)).toBe(answerText(GPT, 'openai-eu', 'hello there'));
    expect(result.events[0]).toMatchObject({ event: 'start', data: { path: 'provider-fallback', provider: 'openai:eu', degraded: true } });
    expect(openai.calls()).toMatchObject([{ model: GPT, residency: 'eu', status: 200, stream: true, apiKey: 'sk-openai-1' }]);
    expect(harness.output.sum('ProviderFallbacks')).toBe(1);
    expect(harness.output.sum('Requests', ['Region', 'Path'], { Path: 'provider-fallback' })).toBe(1);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: reason })).toBe(2);
    expect(harness.output.sum('EstimatedCost', ['Region', 'Path'], { Path: 'provider-fallback' })).toBeGreaterThan(0);
    // AND the stored answer names the provider
    const { turns } = await readConversation(harness.server.url, 'eu.c-provider');
    expect(turns[1]).toMatchObject({
      role: 'assistant',
      path: 'provider-fallback',
      model: GPT,
      provider: 'openai:eu',
      text: answerText(GPT, 'openai-eu', 'hello there'),
    });
  });

  test("an outside provider's own 400 during a Bedrock outage skips it as misconfigured: the next provider answers, and TargetRejected counts it", async () => {
    // GIVEN the US chain with Bedrock down, and Anthropic refusing a parameter it does not take
    await startUs();
    harness.emulator.injectFault({ region: US_EAST, model: US_CLAUDE, fault: { status: 503 } });
    anthropic.injectFault({ fault: { status: 400, message: 'temperature and top_p cannot both be specified for this model' } });
    // WHEN
    const result = await postMessage(harness.server.url, 'us.c-rejected', { text: 'hello' });
    // THEN OpenAI answers: Anthropic's refusal was not the request's answer
    expect(result.status).toBe(200);
    expect(result.headers.get('x-agent-provider')).toBe('openai:us');
    expect(answerOf(result.events)).toBe(answerText(GPT, 'openai-us', 'hello'));
    expect(anthropic.calls()).toMatchObject([{ status: 400 }]);
    // AND the refusal is counted as the target's, and logged as a misconfiguration
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'TargetRejected' })).toBe(1);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'Validation' })).toBe(0);
    expect(harness.output.logs()).toContainEqual(expect.objectContaining({ message: 'model target misconfigured; skipped', reason: 'TargetRejected' }));
  });

  test("the last target's own 400 after Bedrock's 503s ends as the outage it is (503, retryable), not as the request's fault, and nothing is stored", async () => {
    // GIVEN both Bedrock regions down, and OpenAI refusing what Bedrock would take
    await startEu();
    failBedrock({ status: 503 });
    openai.injectFault({ model: GPT, fault: { status: 400, message: "Unsupported parameter: 'max_tokens' is not supported with this model." } });
    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-rejected', { text: 'hello' }, { accept: 'application/json' });
    // THEN
    expect(result.status).toBe(503);
    expect(result.json).toMatchObject({ error: { code: 'all_targets_failed', retryable: true } });
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'TargetRejected' })).toBe(1);
    expect(await tableItems(harness.dynamo)).toEqual([]);
  });

  test("a Bedrock fallback's ValidationException after the primary's 503 is the request's own fault: the chain stops with 400, OpenAI is not called", async () => {
    // GIVEN the primary down, and Frankfurt refusing the request as invalid
    await startEu();
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
    harness.emulator.injectFault({
      region: EU_CENTRAL,
      model: CLAUDE,
      fault: { status: 400, errorType: 'ValidationException', message: 'messages.0.content: text content blocks must be non-empty' },
    });
    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-invalid', { text: 'hello' }, { accept: 'application/json' });
    // THEN Bedrock's API judged the request: it is refused, and no other target is asked
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ error: { code: 'model_rejected_request' } });
    expect(openai.calls()).toEqual([]);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'Validation' })).toBe(1);
  });

  test('Anthropic answering 529 overloaded moves the US chain on to OpenAI, and Anthropic gets inference_geo us', async () => {
    await startUs();
    harness.emulator.injectFault({ region: US_EAST, model: US_CLAUDE, fault: { status: 503 } });
    anthropic.injectFault({ fault: { status: 529 } });
    const result = await postMessage(harness.server.url, 'us.c-529', { text: 'hello' });
    expect(result.headers.get('x-agent-provider')).toBe('openai:us');
    expect(answerOf(result.events)).toBe(answerText(GPT, 'openai-us', 'hello'));
    expect(anthropic.calls()).toMatchObject([{ residency: 'us', status: 529 }]);
    expect((anthropic.calls()[0].request as { inference_geo: string }).inference_geo).toBe('us');
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'Overloaded' })).toBe(1);
  });

  test('Anthropic answers the US chain when Bedrock fails, through the Messages API', async () => {
    await startUs();
    harness.emulator.injectFault({ region: US_EAST, model: US_CLAUDE, fault: { status: 429 } });
    const result = await postMessage(harness.server.url, 'us.c-anthropic', { text: 'hello' });
    expect(result.headers.get('x-agent-provider')).toBe('anthropic:us');
    expect(answerOf(result.events)).toBe(answerText(SONNET, 'anthropic-us', 'hello'));
    expect(result.events.find((event) => event.event === 'done')?.data).toMatchObject({
      usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
    });
  });
});

test('outside providers whose code cannot load: Bedrock still answers, and a fallback to the provider is a classified failure', async () => {
  // GIVEN the providers' chunk failing to load (a damaged asset; test/e2e/deployed-bundle.test.ts runs one in its own process)
  const load = jest.spyOn(optionalModules, 'outsideProviders').mockRejectedValue(new Error('chunk missing'));
  try {
    await startEu();

    // WHEN a message is answered by Bedrock, and another finds every Bedrock target failing
    const healthy = await postMessage(harness.server.url, 'eu.c-no-providers-1', { text: 'hello' });
    failBedrock({ status: 503 });
    const failed = await postMessage(harness.server.url, 'eu.c-no-providers-2', { text: 'hello' });

    // THEN the first is answered, and the second is a 503 whose provider attempt is counted as a failure
    expect(healthy.status).toBe(200);
    expect(healthy.headers.get('x-agent-path')).toBe('primary');
    expect(failed.status).toBe(503);
    expect(failed.json?.error).toMatchObject({ code: 'all_targets_failed' });
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'NetworkError' })).toBe(1);
  } finally {
    load.mockRestore();
  }
});

describe('provider keys', () => {
  test('a 401 after the key was rotated reads the secret once more, and the answer comes from the provider with the new key', async () => {
    // GIVEN a first answer with the old key (now cached)
    await startEu({}, [openAiEu]);
    await postMessage(harness.server.url, 'eu.c-rotate', { text: 'first' });
    expect(secrets.reads.get('openai-eu')).toBe(1);
    // WHEN the key is rotated at the provider and in the secret
    openai.setApiKeys(['sk-openai-2']);
    secrets.put('openai-eu', 'sk-openai-2');
    const result = await postMessage(harness.server.url, 'eu.c-rotate', { text: 'second' });
    // THEN
    expect(result.status).toBe(200);
    expect(answerOf(result.events)).toBe(answerText(GPT, 'openai-eu', 'second'));
    expect(openai.calls().map((call) => `${call.apiKey}:${call.status}`)).toEqual(['sk-openai-1:200', 'sk-openai-1:401', 'sk-openai-2:200']);
    expect(secrets.reads.get('openai-eu')).toBe(2);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'])).toBe(0);
  });

  test('a key the provider refuses even after a fresh read is skipped, counted and logged without the key, and the next target answers', async () => {
    // GIVEN a key OpenAI does not accept for gpt-4o, and a good one for gpt-4o-mini
    secrets.put('openai-eu', 'sk-revoked-9');
    secrets.create('openai-eu-good', 'sk-openai-1');
    await startEu({}, [openAiEu, { ...openAiEu, modelId: 'gpt-4o-mini', provider: { ...openAiEu.provider!, secret: 'openai-eu-good' } }]);
    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-revoked', { text: 'hello' });
    // THEN
    expect(result.status).toBe(200);
    expect(result.headers.get('x-agent-model')).toBe('gpt-4o-mini');
    expect(openai.calls({ model: GPT }).map((call) => call.status)).toEqual([401, 401]);
    expect(secrets.reads.get('openai-eu')).toBe(2);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'KeyRejected' })).toBe(1);
    const logged = JSON.stringify(harness.output.lines);
    expect(logged).toContain('model target misconfigured; skipped');
    expect(logged).not.toContain('sk-revoked-9');
  });

  test("a 403 (the key's project may not use the model) is a configuration failure counted as a refused key, so the key alarm fires; the next target answers", async () => {
    await startEu({}, [openAiEu, { ...openAiEu, modelId: 'gpt-4o-mini' }]);
    openai.injectFault({ model: GPT, fault: { status: 403, message: 'Project does not have access to model gpt-4o' } });
    const result = await postMessage(harness.server.url, 'eu.c-forbidden', { text: 'hello' });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-agent-model')).toBe('gpt-4o-mini');
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'KeyRejected' })).toBe(1);
    expect(JSON.stringify(harness.output.lines)).toContain('model target misconfigured; skipped');
  });

  test('an empty secret (created, never filled) is a configuration failure of that target: skipped, and the next target answers', async () => {
    secrets.create('openai-empty');
    await startEu({}, [
      { ...openAiEu, provider: { ...openAiEu.provider!, secret: 'openai-empty' } },
      { ...openAiEu, modelId: 'gpt-4o-mini' },
    ]);
    const result = await postMessage(harness.server.url, 'eu.c-empty', { text: 'hello' });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-agent-model')).toBe('gpt-4o-mini');
    expect(openai.calls({ model: GPT })).toEqual([]);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'KeyRejected' })).toBe(1);
    expect(JSON.stringify(harness.output.logs())).toContain('openai-empty');
  });
});

describe('provider failures, classified', () => {
  const MINI = 'gpt-4o-mini';
  /** gpt-4o, then gpt-4o-mini, both of OpenAI's EU residency; faults are injected for gpt-4o. */
  const twoProviders = (): ChainTarget[] => [openAiEu, { ...openAiEu, modelId: MINI }];

  test.each<[string, ProviderFault, string]>([
    ['an HTML page', { garbage: 'body' }, 'StreamError'],
    ['a stream whose data is not JSON', { garbage: 'stream' }, 'StreamError'],
    ['500', { status: 500 }, 'ServerError'],
    ['502', { status: 502 }, 'ServerError'],
    ['504', { status: 504 }, 'ModelTimeout'],
    ['a stall before the first token', { stallMs: 3000 }, 'FirstTokenTimeout'],
  ])('OpenAI answering %s moves the chain on, counted as %s', async (_name, fault, reason) => {
    await startEu({}, twoProviders());
    openai.injectFault({ model: GPT, fault });
    const result = await postMessage(harness.server.url, 'eu.c-garbage', { text: 'hello' });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-agent-model')).toBe(MINI);
    expect(answerOf(result.events)).toBe(answerText(MINI, 'openai-eu', 'hello'));
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: reason })).toBe(1);
  });

  test('a 429 with retry-after: the provider is not called again before then, and is once it has passed', async () => {
    // GIVEN a chain of OpenAI alone, throttled once with retry-after: 1
    await startEu({}, [openAiEu]);
    openai.injectFault({ model: GPT, fault: { status: 429, retryAfterSeconds: 1 }, times: 1 });
    const first = await postMessage(harness.server.url, 'eu.c-429', { text: 'one' });
    // WHEN asked again at once
    const second = await postMessage(harness.server.url, 'eu.c-429', { text: 'two' });
    // THEN both are throttled, and only the first reached OpenAI
    expect([first.status, second.status]).toEqual([429, 429]);
    expect(openai.calls()).toHaveLength(1);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'Throttled' })).toBe(2);
    // AND once the second has passed, OpenAI is called and answers
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const third = await postMessage(harness.server.url, 'eu.c-429', { text: 'three' });
    expect(third.status).toBe(200);
    expect(openai.calls()).toHaveLength(2);
  });

  test('a 400 stops the chain: the request would fail everywhere, and nothing is stored', async () => {
    await startEu({}, twoProviders());
    openai.injectFault({ model: GPT, fault: { status: 400, message: "Invalid 'messages[1].content': string too long." } });
    const result = await postMessage(harness.server.url, 'eu.c-400', { text: 'hello' }, { accept: 'application/json' });
    expect(result.status).toBe(400);
    expect(openai.calls({ model: MINI })).toEqual([]);
    expect(await tableItems(harness.dynamo)).toEqual([]);
  });

  test('a stream cut after its first tokens ends the answer with an error event, stored as incomplete, never switched to another model', async () => {
    await startEu({}, twoProviders());
    openai.injectFault({ model: GPT, fault: { endAfterTokens: 2 } });
    const result = await postMessage(harness.server.url, 'eu.c-cut', { text: 'hello there friend' });
    expect(answerOf(result.events)).toBe('Answer from ');
    expect(result.events.at(-1)?.event).toBe('error');
    expect(openai.calls({ model: MINI })).toEqual([]);
    const { turns } = await readConversation(harness.server.url, 'eu.c-cut');
    expect(turns[1]).toMatchObject({ incomplete: true, provider: 'openai:eu' });
  });

  test("an in-stream error event after the first tokens is the provider's failure, reported on the answer", async () => {
    await startEu({}, twoProviders());
    openai.injectFault({ model: GPT, fault: { failAfterTokens: 3 } });
    const result = await postMessage(harness.server.url, 'eu.c-event', { text: 'hello there friend' });
    expect(result.events.at(-1)).toMatchObject({ event: 'error' });
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'StreamError' })).toBe(1);
  });

  test('the runtime residency guard never calls a global provider from a restricted jurisdiction, whatever the configuration says', async () => {
    await startEu({}, [
      { ...openAiEu, provider: { ...openAiEu.provider!, residency: 'global' } },
      { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
    ]);
    const result = await postMessage(harness.server.url, 'eu.c-guard', { text: 'hello' });
    expect(result.headers.get('x-agent-path')).toBe('primary');
    expect(openai.calls()).toEqual([]);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'ResidencyRefused' })).toBe(1);
  });
});

describe('one conversation through each provider', () => {
  const lookup = tool({
    description: 'Looks a city up',
    inputSchema: z.object({ city: z.string() }),
    execute: ({ city }) => ({ city, temperature: 21 }),
  });
  const QUESTION = 'What is the weather? lookup city=Paris';

  /** Two messages, the first with a tool call, through a chain of this one target; its stored history with the target's name taken out. */
  async function historyThrough(target: ChainTarget, label: string): Promise<unknown> {
    harness = await startHarness(
      (emulator, dynamo) => {
        const config = euConfig(emulator, dynamo);
        // Unrestricted, so that Anthropic's global inference may serve it too.
        const jurisdiction = { ...config.jurisdiction, restricted: false };
        return { ...config, jurisdiction, chain: [target], endpoints: { ...config.endpoints, ...providerEndpoints() } };
      },
      { overrides: { agent: defineAgent({ tools: { lookup } }) } },
    );
    const first = await postMessage(harness.server.url, 'eu.c-same', { text: QUESTION });
    expect(first.status).toBe(200);
    const second = await postMessage(harness.server.url, 'eu.c-same', { text: 'And tomorrow?' });
    expect(second.status).toBe(200);
    const { turns } = await readConversation(harness.server.url, 'eu.c-same');
    await harness.close();
    // What names the target, and what differs from call to call, is taken out: the rest must be the same.
    const varying = new Set(['time', 'model', 'region', 'provider', 'path', 'degraded', 'id', 'durationMs']);
    return JSON.parse(JSON.stringify(turns).replaceAll(label, 'MODEL@WHERE'), (key, value: unknown) => (varying.has(key) ? undefined : value));
  }

  test('Bedrock, OpenAI and Anthropic: the stored history reads the same, tool call and result included', async () => {
    const bedrock = await historyThrough({ modelId: CLAUDE, region: EU_WEST, tier: 'primary' }, `${CLAUDE} in ${EU_WEST}`);
    const viaOpenAi = await historyThrough(openAiEu, `${GPT} in openai-eu`);
    const viaAnthropic = await historyThrough(
      { modelId: SONNET, region: EU_WEST, tier: 'provider-fallback', provider: { name: 'anthropic', residency: 'global', secret: 'anthropic-us' } },
      `${SONNET} in anthropic-global`,
    );
    expect(viaOpenAi).toEqual(bedrock);
    expect(viaAnthropic).toEqual(bedrock);
    expect(JSON.stringify(bedrock)).toContain('lookup={\\"city\\":\\"Paris\\",\\"temperature\\":21}');
    // AND the second message gave each provider the first exchange, tool call and result, in its own format
    const toOpenAi = openai.calls().at(-1)?.request as { messages: Array<{ role: string }> };
    expect(toOpenAi.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
  });
});
