/**
 * The AI SDK's UI message stream, read by the AI SDK itself: the real
 * DefaultChatTransport (what `useChat` sends and parses, with its chunk
 * schema) and readUIMessageStream (how `useChat` builds the message), over
 * the playground's HTTP answers.
 */
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { EXAMPLE_SYNTH_TIMEOUT_MS } from '../../local/example-regions';
import { Playground } from '../../local/playground';
import { sharedExampleRegions } from './example-assembly';

let playground: Playground;

beforeAll(async () => {
  playground = await Playground.start({ ...(await sharedExampleRegions()), port: 0 });
  // The example synthesizes with bundling first (once per run, shared by the files that run it).
}, EXAMPLE_SYNTH_TIMEOUT_MS);

afterEach(() => playground.emulator.clearFaults());

afterAll(async () => {
  await playground.close();
});

const EU = { 'x-local-location': 'eu' };

async function mint(): Promise<string> {
  const response = await fetch(`${playground.url}/v1/conversations`, { method: 'POST', headers: EU });
  return ((await response.json()) as { conversationId: string }).conversationId;
}

/** A transport as a `useChat` app would configure it for this API. */
function transport(headers: Record<string, string> = {}): DefaultChatTransport<UIMessage> {
  return new DefaultChatTransport({
    api: `${playground.url}/v1/conversations`,
    headers: { ...EU, ...headers, 'x-vercel-ai-ui-message-stream': 'v1' },
    prepareSendMessagesRequest: ({ id, messages, headers: sent }) => ({
      api: `${playground.url}/v1/conversations/${encodeURIComponent(id)}/messages`,
      headers: sent,
      body: {
        text:
          messages
            .at(-1)
            ?.parts.flatMap((part) => (part.type === 'text' ? [part.text] : []))
            .join('') ?? '',
      },
    }),
  });
}

interface Read {
  chunks: UIMessageChunk[];
  message: UIMessage;
  errors: string[];
}

/** Sends `text` through the transport and reads the answer as useChat would: every chunk, the final message, the errors reported. */
async function send(conversationId: string, text: string, headers: Record<string, string> = {}): Promise<Read> {
  const stream = await transport(headers).sendMessages({
    chatId: conversationId,
    messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text }] }],
    trigger: 'submit-message',
    messageId: undefined,
    abortSignal: undefined,
  });
  const chunks: UIMessageChunk[] = [];
  const errors: string[] = [];
  const tapped = stream.pipeThrough(
    new TransformStream<UIMessageChunk, UIMessageChunk>({
      transform(chunk, controller) {
        chunks.push(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const snapshot of readUIMessageStream({ stream: tapped, onError: (error) => errors.push((error as Error).message) })) message = snapshot;
  if (!message) throw new Error('the stream produced no message');
  return { chunks, message, errors };
}

const dataPart = (message: UIMessage, type: string) => message.parts.find((part) => part.type === type) as { data: Record<string, unknown> } | undefined;

test('a plain answer reads as one text part, with the agent facts in data-agent and the protocol header', async () => {
  // GIVEN
  const conversationId = await mint();
  const probe = await fetch(`${playground.url}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { ...EU, 'content-type': 'application/json', 'x-vercel-ai-ui-message-stream': 'v1' },
    body: JSON.stringify({ text: 'hello there' }),
  });
  const header = probe.headers.get('x-vercel-ai-ui-message-stream');
  const raw = await probe.text();

  // WHEN
  const { message, chunks, errors } = await send(conversationId, 'where am I served?');

  // THEN
  expect(header).toBe('v1');
  expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
  expect(errors).toEqual([]);
  expect(message.id).toBe(`${conversationId}#2`);
  const text = message.parts.filter((part) => part.type === 'text');
  expect(text).toHaveLength(1);
  expect(text[0]).toMatchObject({ state: 'done', text: expect.stringMatching(/\S/) });
  expect(dataPart(message, 'data-agent')?.data).toMatchObject({
    conversationId,
    jurisdiction: conversationId.split('.')[0],
    turn: 2,
    path: 'primary',
    region: 'eu-west-1',
    degraded: false,
    state: 'ok',
  });
  expect(dataPart(message, 'data-agent-done')?.data).toMatchObject({ stopReason: 'end_turn', stored: true });
  expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });
});

test('a tool loop with a regional fallback between its steps reads as tool parts with the model’s ids and a second step', async () => {
  // GIVEN the primary fails the loop's second model call once
  const conversationId = await mint();
  await playground.emulator.injectFault({ region: 'eu-west-1', step: 2, fault: { status: 503 }, times: 1 });

  // WHEN
  const { message, errors } = await send(conversationId, 'Where is my order? lookup_order orderId=NW-10042');

  // THEN the tool part carries the id the stored turn holds, and step 2 names the fallback that served it
  expect(errors).toEqual([]);
  const stored = (await (await fetch(`${playground.url}/v1/conversations/${conversationId}`, { headers: EU })).json()) as {
    turns: Array<{ role: string; steps?: Array<{ toolCalls: Array<{ id: string; name: string }> }> }>;
  };
  const storedCall = stored.turns.find((turn) => turn.role === 'assistant')?.steps?.[0].toolCalls[0];
  const toolPart = message.parts.find((part) => part.type === 'tool-lookup_order') as { toolCallId: string; state: string; input: unknown; output: unknown };
  expect(toolPart).toMatchObject({ toolCallId: storedCall?.id, state: 'output-available', input: { orderId: 'NW-10042' }, output: { ok: true } });
  expect(message.parts.filter((part) => part.type === 'step-start')).toHaveLength(2);
  expect(dataPart(message, 'data-agent-step')?.data).toMatchObject({ step: 2, path: 'regional-fallback', region: 'eu-central-1' });
  expect(message.parts.at(-1)).toMatchObject({ type: 'data-agent-done' });
  expect(message.parts.some((part) => part.type === 'text' && part.text.includes('NW-10042'))).toBe(true);
});

test('a model failing mid-stream ends the stream with an error chunk and data-agent-error, and the reader stops', async () => {
  // GIVEN every eu model fails after two tokens
  const conversationId = await mint();
  for (const region of ['eu-west-1', 'eu-central-1']) await playground.emulator.injectFault({ region, fault: { failAfterTokens: 2 } });

  // WHEN
  const { message, chunks, errors } = await send(conversationId, 'tell me a long story');

  // THEN the partial text stays, the failure is named, and the AI SDK reported it as an error
  expect(errors).toHaveLength(1);
  expect(dataPart(message, 'data-agent-error')?.data).toMatchObject({ code: expect.any(String), retryable: true });
  expect(errors[0]).toBe(dataPart(message, 'data-agent-error')?.data.message);
  expect(message.parts.some((part) => part.type === 'text' && part.text.length > 0)).toBe(true);
  expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'error' });
});

test('a retried request (same Idempotency-Key) replays the stored answer in the UI stream, flagged replayed', async () => {
  // GIVEN
  const conversationId = await mint();
  const key = { 'idempotency-key': `ui-replay-${conversationId}` };
  const first = await send(conversationId, 'Where is my order? lookup_order orderId=NW-10042', key);

  // WHEN
  const again = await send(conversationId, 'Where is my order? lookup_order orderId=NW-10042', key);

  // THEN
  expect(dataPart(again.message, 'data-agent')?.data).toMatchObject({ replayed: true, turn: 1 });
  const texts = (read: Read) => read.message.parts.flatMap((part) => (part.type === 'text' ? [part.text] : []));
  expect(texts(again)).toEqual(texts(first));
  const tools = (read: Read) => read.message.parts.flatMap((part) => (part.type === 'tool-lookup_order' ? [(part as { toolCallId: string }).toolCallId] : []));
  expect(tools(again)).toEqual(tools(first));
});

test('a refused request stays a JSON error, which the transport raises before any stream', async () => {
  await expect(send('us.not-this-jurisdiction', 'hello')).rejects.toThrow(/wrong_jurisdiction|not_found/);
});
