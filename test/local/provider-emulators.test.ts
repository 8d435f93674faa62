import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { answerText } from '../../local/bedrock-model';
import { AnthropicEmulator } from '../../local/anthropic-emulator';
import { OpenAiEmulator } from '../../local/openai-emulator';

const lookup = { name: 'lookup', description: 'Looks a city up', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const QUESTION = 'What is the weather? use lookup city=Paris';

describe('the OpenAI emulator, through the official openai SDK', () => {
  let emulator: OpenAiEmulator;
  const client = (residency: 'global' | 'eu' = 'global', apiKey = 'test-key') => new OpenAI({ apiKey, baseURL: emulator.baseUrl(residency), maxRetries: 0 });

  beforeAll(async () => {
    emulator = await OpenAiEmulator.start();
  });
  afterAll(() => emulator.close());
  afterEach(() => {
    emulator.clearFaults();
    emulator.clearCalls();
  });

  test('streams chunks, then the usage chunk asked for with stream_options.include_usage', async () => {
    // WHEN
    const stream = await client('eu').chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hello there' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    // THEN
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(answerText('gpt-4o', 'openai-eu', 'Hello there'));
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(emulator.calls()).toMatchObject([{ model: 'gpt-4o', residency: 'eu', stream: true, status: 200 }]);
  });

  test('calls a tool in streamed fragments, then answers with its result', async () => {
    const tools = [{ type: 'function' as const, function: { name: lookup.name, description: lookup.description, parameters: lookup.schema } }];
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: QUESTION }], tools, stream: true });
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (call.id) calls[call.index] = { id: call.id, name: call.function?.name ?? '', arguments: '' };
        calls[call.index].arguments += call.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(calls).toEqual([{ id: expect.stringMatching(/^call_/), name: 'lookup', arguments: '{"city":"Paris"}' }]);
    // WHEN the result goes back
    const done = await client().chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: QUESTION },
        {
          role: 'assistant',
          content: 'Looking up lookup.',
          tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
        },
        { role: 'tool', tool_call_id: calls[0].id, content: JSON.stringify({ temp: 20 }) },
      ],
      tools,
    });
    // THEN
    expect(done.choices[0].message.content).toBe(answerText('gpt-4o', 'openai-global', QUESTION, [{ tool: 'lookup', result: { temp: 20 } }]));
  });

  test('refuses a tool message that answers no tool call with 400, as OpenAI does', async () => {
    const refused = client().chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'tool', tool_call_id: 'call_x', content: '1' },
      ],
    });
    await expect(refused).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: expect.stringContaining("messages with role 'tool' must be a response"),
    });
  });

  test.each([
    [429, OpenAI.RateLimitError, 'requests'],
    [500, OpenAI.InternalServerError, 'server_error'],
    [503, OpenAI.InternalServerError, 'server_error'],
  ])('answers an injected %i with its error body', async (status, errorClass, type) => {
    emulator.injectFault({ fault: { status, retryAfterSeconds: 7 }, times: 1 });
    const failure = await client()
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(errorClass);
    expect(failure).toMatchObject({ status, type });
    expect((failure as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('7');
  });

  test('refuses a wrong key with 401 invalid_api_key, and an unknown model with 404 model_not_found', async () => {
    await expect(
      client('global', 'sk-wrong-1234').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client().chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });

  test('an in-stream error after the first tokens reaches the SDK as an APIError', async () => {
    emulator.injectFault({ fault: { failAfterTokens: 2 } });
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello there friend' }], stream: true });
    const texts: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? '');
    })();
    await expect(reading).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(texts.join('')).toBe('Answer from ');
  });
});

describe('the Anthropic emulator, through the official @anthropic-ai/sdk', () => {
  let emulator: AnthropicEmulator;
  const client = (apiKey = 'test-key') => new Anthropic({ apiKey, baseURL: emulator.baseUrl, maxRetries: 0 });

  beforeAll(async () => {
    emulator = await AnthropicEmulator.start();
  });
  afterAll(() => emulator.close());
  afterEach(() => {
    emulator.clearFaults();
    emulator.clearCalls();
  });

  test('streams message_start, content blocks, message_delta and message_stop', async () => {
    const stream = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello there' }],
      stream: true,
    });
    const types: string[] = [];
    let text = '';
    let stopReason: string | null = null;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') stopReason = event.delta.stop_reason;
    }
    expect(text).toBe(answerText('claude-sonnet-4-5', 'anthropic-global', 'Hello there'));
    expect(stopReason).toBe('end_turn');
    expect(types[0]).toBe('message_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  test('inference_geo us is processed as us, and the usage says so', async () => {
    const message = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello there' }],
      inference_geo: 'us',
    } as Anthropic.MessageCreateParamsNonStreaming);
    expect(message.content).toEqual([{ type: 'text', text: answerText('claude-sonnet-4-5', 'anthropic-us', 'Hello there') }]);
    expect((message.usage as unknown as { inference_geo: string }).inference_geo).toBe('us');
    expect(emulator.calls()).toMatchObject([{ residency: 'us' }]);
  });

  test('calls a tool with input_json_delta fragments, then answers with its result', async () => {
    const tools = [{ name: lookup.name, description: lookup.description, input_schema: lookup.schema as Anthropic.Tool.InputSchema }];
    const message = await client()
      .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: QUESTION }], tools })
      .finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    const use = message.content.find((block) => block.type === 'tool_use') as Anthropic.ToolUseBlock;
    expect(use).toMatchObject({ id: expect.stringMatching(/^toolu_/), name: 'lookup', input: { city: 'Paris' } });
    const done = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      tools,
      messages: [
        { role: 'user', content: QUESTION },
        { role: 'assistant', content: message.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: JSON.stringify({ temp: 20 }) }] },
      ],
    });
    expect(done.content).toEqual([
      { type: 'text', text: answerText('claude-sonnet-4-5', 'anthropic-global', QUESTION, [{ tool: 'lookup', result: { temp: 20 } }]) },
    ]);
  });

  test('answers an injected 529 with overloaded_error, and 429 with rate_limit_error and retry-after', async () => {
    emulator.injectFault({ fault: { status: 529 }, times: 1 });
    emulator.injectFault({ fault: { status: 429, retryAfterSeconds: 3 }, times: 1 });
    const params = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };
    const overloaded = await client()
      .messages.create(params)
      .catch((error: unknown) => error);
    expect(overloaded).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const throttled = await client()
      .messages.create(params)
      .catch((error: unknown) => error);
    expect(throttled).toBeInstanceOf(Anthropic.RateLimitError);
    expect((throttled as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('3');
  });

  test('refuses a wrong key with 401 authentication_error, and roles that do not alternate with 400', async () => {
    const params = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };
    await expect(client('wrong').messages.create(params)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(
      client().messages.create({
        ...params,
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('roles must alternate') });
  });

  test('an error event after the first tokens reaches the SDK as an overloaded error', async () => {
    emulator.injectFault({ fault: { failAfterTokens: 2 } });
    const stream = client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hello there friend' }] });
    await expect(stream.finalMessage()).rejects.toMatchObject({ error: { error: { type: 'overloaded_error' } } });
  });
});
