/**
 * Event streams stay alive while nothing is said: a tool running, a model
 * thinking between tokens. Proxies between the user and the API cut idle
 * streams (CloudFront after 30 s, an ALB after 60 s), so after
 * `deadlines.keepAliveMs` of silence the runtime sends an SSE comment, which
 * every SSE parser skips. Read here with Node's fetch and a spec parser
 * (eventsource-parser), as a browser's EventSource would.
 */
import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import { CLAUDE, EU_WEST, euConfig, parseSse, postMessage, startHarness, type Harness } from './harness';

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

const KEEP_ALIVE_MS = 100;
/** Long enough for several silent intervals. */
const TOOL_MS = 1000;

/** An agent whose one tool answers after TOOL_MS, saying nothing meanwhile. */
const slowAgent = defineAgent({
  tools: {
    slow_report: tool({
      description: 'Builds a report, slowly',
      inputSchema: z.object({}),
      execute: () => new Promise((resolve) => setTimeout(() => resolve({ rows: 3, at: new Date(0) }), TOOL_MS)),
    }),
  },
});

async function startSlow(): Promise<void> {
  harness = await startHarness(
    (emulator, dynamo) => {
      const config = euConfig(emulator, dynamo);
      return { ...config, deadlines: { ...config.deadlines, keepAliveMs: KEEP_ALIVE_MS } };
    },
    { overrides: { agent: slowAgent } },
  );
}

/** The stream as it arrives: each event by name, each comment as `:<text>` (the parser trims it), in order; and the raw text. */
async function readStream(conversationId: string, text: string): Promise<{ timeline: string[]; events: Array<{ event: string; data: unknown }>; raw: string }> {
  const response = await fetch(`${harness.server.url}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ text }),
  });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const timeline: string[] = [];
  const events: Array<{ event: string; data: unknown }> = [];
  const parser = createParser({
    onEvent: ({ event, data }) => {
      timeline.push(event ?? 'message');
      events.push({ event: event ?? 'message', data: JSON.parse(data) });
    },
    onComment: (comment) => timeline.push(`:${comment}`),
  });
  let raw = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body!) {
    const text = decoder.decode(chunk, { stream: true });
    raw += text;
    parser.feed(text);
  }
  return { timeline, events, raw };
}

test('while a tool runs, the stream sends a comment every silent interval, and the events parse as they would without them', async () => {
  // GIVEN a tool that takes ten keep-alive intervals
  await startSlow();

  // WHEN
  const { timeline, events, raw } = await readStream('eu.c-slow-tool', 'a report please: slow_report');

  // THEN keep-alives went out between the tool's call and its result, and nowhere before the first event or after the last
  const call = timeline.indexOf('tool_call');
  const result = timeline.indexOf('tool_result');
  expect(timeline.slice(call + 1, result).length).toBeGreaterThanOrEqual(2);
  expect(timeline.slice(call + 1, result).every((entry) => entry === ':ping')).toBe(true);
  expect(timeline[0]).toBe('start');
  expect(timeline.at(-1)).toBe('done');
  // AND the events are the answer's, unchanged: the same as a parser that knows no comments reads once they are taken out
  expect(events.map((event) => event.event).filter((name) => name !== 'delta')).toEqual(['start', 'tool_call', 'tool_result', 'step', 'done']);
  expect(events).toEqual(parseSse(raw.replaceAll(': ping\n\n', '')));
  expect(events.find((event) => event.event === 'tool_result')?.data).toMatchObject({ name: 'slow_report', ok: true });
});

test('while a model is slow between tokens, comments fill the silence and the text arrives whole', async () => {
  // GIVEN a model that waits three keep-alive intervals before each token
  await startSlow();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { tokenDelayMs: 3 * KEEP_ALIVE_MS } });

  // WHEN
  const { timeline, events } = await readStream('eu.c-slow-model', 'hello there');

  // THEN
  expect(timeline.filter((entry) => entry === ':ping').length).toBeGreaterThanOrEqual(1);
  expect(timeline.indexOf(':ping')).toBeGreaterThan(timeline.indexOf('start'));
  const text = events.filter((event) => event.event === 'delta').map((event) => (event.data as { text: string }).text);
  expect(text.join('')).toBe(harness.emulator.expectedAnswer(CLAUDE, EU_WEST, 'hello there'));
  expect(timeline.at(-1)).toBe('done');
});

test('the JSON rendering is one body: no keep-alive gets into it, however long the tool takes', async () => {
  await startSlow();

  const result = await postMessage(harness.server.url, 'eu.c-slow-json', { text: 'a report please: slow_report' }, { accept: 'application/json' });

  expect(result.status).toBe(200);
  expect(result.json).toMatchObject({ stopReason: 'end_turn', steps: [{ toolCalls: [{ name: 'slow_report', ok: true }] }, expect.anything()] });
});
