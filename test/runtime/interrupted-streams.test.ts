import { answerOf, CLAUDE, EU_WEST, euConfig, postMessage, readConversation, startHarness, type Harness } from './harness';

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

test('a model that goes silent mid-answer is interrupted at the idle deadline: error event, partial answer stored incomplete, counted', async () => {
  // GIVEN an idle deadline of 2 s and a primary whose tokens come 2.5 s apart
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, { deadlines: { firstTokenTimeoutMs: 1000, idleTimeoutMs: 2000, reserveMs: 500, stateTimeoutMs: 500 } }),
  );
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { tokenDelayMs: 2500 }, times: 1 });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-silent', { text: 'tell me everything' });

  // THEN the client saw the first token and then an error, never a complete answer
  expect(result.events.map((event) => event.event)).toEqual(['start', 'delta', 'error']);
  expect(result.events.at(-1)?.data).toMatchObject({ code: 'stream_interrupted', retryable: true, stored: true });
  // AND the partial answer is stored as incomplete
  const { turns } = await readConversation(harness.server.url, 'eu.c-silent');
  expect(turns[1]).toMatchObject({ role: 'assistant', text: answerOf(result.events), incomplete: true });
  // AND it is counted as the target's idle timeout and a failed request
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'IdleTimeout' })).toBe(1);
  expect(harness.output.sum('FailedRequests')).toBe(1);
});

test('in JSON mode, a silent model answers 502 stream_interrupted with the partial text', async () => {
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, { deadlines: { firstTokenTimeoutMs: 1000, idleTimeoutMs: 2000, reserveMs: 500, stateTimeoutMs: 500 } }),
  );
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { tokenDelayMs: 2500 }, times: 1 });

  const result = await postMessage(harness.server.url, 'eu.c-silent-json', { text: 'tell me everything' }, { accept: 'application/json' });

  expect(result.status).toBe(502);
  expect(result.json?.error).toMatchObject({ code: 'stream_interrupted', partialText: 'Answer ', stored: true });
});

test('a stream that ends without the stop event is interrupted, never taken as a complete answer', async () => {
  // GIVEN a primary whose stream closes cleanly after 3 tokens, without messageStop
  harness = await startHarness();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { endAfterTokens: 3 }, times: 1 });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-cut', { text: 'a long story please' });

  // THEN
  expect(result.events.map((event) => event.event)).toEqual(['start', 'delta', 'delta', 'delta', 'error']);
  expect(result.events.at(-1)?.data).toMatchObject({ code: 'stream_interrupted', stored: true });
  const { turns } = await readConversation(harness.server.url, 'eu.c-cut');
  expect(turns[1]).toMatchObject({ incomplete: true });
  expect(turns[1]).not.toHaveProperty('stopReason');
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'StreamError' })).toBe(1);
  expect(harness.output.sum('FailedRequests')).toBe(1);
});

test('totalBudgetMs also ends an answer that is still streaming, and the target is not blamed', async () => {
  // GIVEN a 1.5 s budget and tokens 400 ms apart (the answer would take about 4 s)
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, { deadlines: { firstTokenTimeoutMs: 1000, idleTimeoutMs: 2000, totalBudgetMs: 1500, reserveMs: 500, stateTimeoutMs: 500 } }),
  );
  harness.emulator.setLatency({ tokenDelayMs: 400 });

  // WHEN
  const question = 'one two three four five six seven eight';
  const result = await postMessage(harness.server.url, 'eu.c-budget-stream', { text: question });

  // THEN the stream ended with an error once the budget ran out, after part of the answer
  expect(result.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'stream_interrupted' } });
  const full = harness.emulator.expectedAnswer(CLAUDE, EU_WEST, question);
  expect(full.startsWith(answerOf(result.events))).toBe(true);
  expect(answerOf(result.events).length).toBeLessThan(full.length);
  // AND no target error was counted: running out of time is nobody's fault
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'])).toBe(0);
});
