import { CLAUDE, EU_WEST, postMessage, startHarness, tableItems, type Harness } from './harness';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterEach(() => {
  harness.emulator.clearFaults();
  harness.emulator.clearCalls();
});

afterAll(async () => {
  await harness.close();
});

async function send(path: string, init: RequestInit = {}): Promise<{ status: number; body: { error?: { code: string; message: string } }; headers: Headers }> {
  const response = await fetch(`${harness.server.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } }, headers: response.headers };
}

/** Posts a body as it is given: a string as UTF-8, bytes as they are (invalid UTF-8 included). */
const post = (body: string | Buffer, conversationId = 'eu.c-bad') =>
  send(`/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
  });

test.each([
  ['malformed JSON', 400, 'invalid_json', () => post('{"text": ')],
  ['a body that is not valid UTF-8', 400, 'invalid_json', () => post(Buffer.concat([Buffer.from('{"text": "caf'), Buffer.from([0xe9]), Buffer.from('"}')]))],
  ['a lone surrogate escaped in the text', 400, 'invalid_json', () => post('{"text": "half \\ud800 a pair"}')],
  ['a new conversation without the jurisdiction prefix', 400, 'unprefixed_conversation_id', () => post('{"text": "hi"}', 'no-prefix')],
  ['a missing text', 400, 'invalid_request', () => post('{}')],
  ['an empty text', 400, 'invalid_request', () => post('{"text": "   "}')],
  ['a text that is not a string', 400, 'invalid_request', () => post('{"text": 42}')],
  ['an unknown field', 400, 'invalid_request', () => post('{"text": "hi", "model": "other"}')],
  ['a text over the size limit', 413, 'too_large', () => post(JSON.stringify({ text: 'x'.repeat(32_769) }))],
  ['a body far over the size limit', 413, 'too_large', () => post(JSON.stringify({ text: 'é'.repeat(200_000) }))],
  ['an invalid conversation id', 400, 'invalid_conversation_id', () => post('{"text": "hi"}', 'bad%20id')],
  ['an over-long conversation id', 400, 'invalid_conversation_id', () => post('{"text": "hi"}', 'a'.repeat(129))],
  ['an unknown jurisdiction prefix', 400, 'invalid_conversation_id', () => post('{"text": "hi"}', 'mars.abc')],
  ['an unknown route', 404, 'not_found', () => send('/v1/nope')],
  ['a wrong method on messages', 405, 'method_not_allowed', () => send('/v1/conversations/eu.c-bad/messages', { method: 'GET' })],
  ['a wrong method on a conversation', 405, 'method_not_allowed', () => send('/v1/conversations/eu.c-bad', { method: 'PUT' })],
  ['a wrong method on the export', 405, 'method_not_allowed', () => send('/v1/export', { method: 'DELETE' })],
  ['a list cursor this API did not write', 400, 'invalid_cursor', () => send('/v1/conversations?cursor=not-a-cursor')],
  ['a list cursor that is not base64url', 400, 'invalid_cursor', () => send('/v1/conversations?cursor=a%2Bb')],
  ['a list limit over the maximum', 400, 'invalid_limit', () => send('/v1/conversations?limit=101')],
  ['a list limit that is not a number', 400, 'invalid_limit', () => send('/v1/conversations?limit=ten')],
  ['a list limit of zero', 400, 'invalid_limit', () => send('/v1/conversations?limit=0')],
  ['an end-user header with a #', 400, 'invalid_end_user', () => send('/v1/conversations', { headers: { 'x-agent-end-user': 'alice#admin' } })],
  ['an empty end-user header', 400, 'invalid_end_user', () => send('/v1/conversations', { headers: { 'x-agent-end-user': '' } })],
  ['an over-long end-user header', 400, 'invalid_end_user', () => send('/v1/conversations', { headers: { 'x-agent-end-user': 'u'.repeat(129) } })],
  [
    'an end-user header from a caller without the on-behalf grant',
    403,
    'end_user_not_allowed',
    () => send('/v1/conversations/eu.c-bad/messages', { method: 'POST', headers: { 'x-agent-end-user': 'alice' }, body: '{"text": "hi"}' }),
  ],
  [
    'an erasure for an end user by a caller without the grant',
    403,
    'end_user_not_allowed',
    () => send('/v1/conversations', { method: 'DELETE', headers: { 'x-agent-end-user': 'alice' } }),
  ],
])('%s gets a %i %s JSON error, calls no model and stores nothing', async (_case, status, code, request) => {
  // GIVEN
  const before = await tableItems(harness.dynamo);

  // WHEN
  const response = await request();

  // THEN
  expect(response.status).toBe(status);
  expect(response.body.error?.code).toBe(code);
  expect(response.body.error?.message).toEqual(expect.any(String));
  expect(response.headers.get('x-request-id')).toEqual(expect.any(String));
  expect(harness.emulator.calls()).toEqual([]);
  expect(await tableItems(harness.dynamo)).toEqual(before);
});

test('a short text padded with whitespace past the body limit is refused for its body size, not its text', async () => {
  const response = await post(`{"text": "hi"${' '.repeat(300_000)}}`);

  expect(response.status).toBe(413);
  expect(response.body.error?.message).toMatch(/^the request body is 300014 bytes; at most 197632 are accepted/);
});

test('HEAD answers like GET without a body, on /health and on a conversation', async () => {
  const health = await fetch(`${harness.server.url}/health`, { method: 'HEAD' });
  const missing = await fetch(`${harness.server.url}/v1/conversations/eu.c-none`, { method: 'HEAD' });

  expect(health.status).toBe(200);
  expect(health.headers.get('content-type')).toBe('application/json');
  expect(await health.text()).toBe('');
  expect(missing.status).toBe(404);
  expect(await missing.text()).toBe('');
});

test('the size limit counts UTF-8 bytes, not characters', async () => {
  // 'é' is two bytes: 16,385 of them exceed 32,768 bytes.
  const response = await post(JSON.stringify({ text: 'é'.repeat(16_385) }));

  expect(response.status).toBe(413);
});

test('a ValidationException from the model gets 400 after exactly one upstream call, and nothing is stored', async () => {
  // GIVEN
  harness.emulator.injectFault({
    region: EU_WEST,
    model: CLAUDE,
    fault: { status: 400, message: 'Malformed input request: #: extraneous key [foo] is not permitted, please reformat your input and try again.' },
  });
  const before = await tableItems(harness.dynamo);

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-validation', { text: 'a question the model refuses' });

  // THEN
  expect(result.status).toBe(400);
  expect((result.json?.error as { code: string }).code).toBe('model_rejected_request');
  expect(harness.emulator.calls()).toHaveLength(1);
  expect(await tableItems(harness.dynamo)).toEqual(before);
  // AND the caller's error is neither a failed request nor a fallback on the dashboard
  expect(harness.output.sum('FailedRequests')).toBe(0);
  expect(harness.output.sum('Fallbacks')).toBe(0);
});

test('a request without an identity gets 401', async () => {
  // The local server fills the identity from x-local-principal; an empty one means none.
  const response = await send('/v1/conversations/eu.c-anon/messages', { method: 'POST', headers: { 'x-local-principal': '' }, body: '{"text":"hi"}' });

  expect(response.status).toBe(401);
  expect(harness.emulator.calls()).toEqual([]);
});

test('GET /health answers with the region', async () => {
  const response = await send('/health');

  expect(response.status).toBe(200);
  expect(response.body).toEqual({ status: 'ok', region: EU_WEST, jurisdiction: 'eu' });
});
