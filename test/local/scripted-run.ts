/**
 * A scripted run through the playground's front door with a fault of each
 * kind, as a person would click through the page: a 503 primary, a
 * throttled model, a mid-stream failure, slow tokens, a stall, a failed
 * loop step, a region down, tool loops, a retry sent while its first
 * try is still running (a 409), and two messages at once on one
 * conversation (a claim that fails its condition). Every region answers at
 * least once.
 */
import type { Playground } from '../../local/playground';

const SONNET_US = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const TOOL_QUESTION = 'Where is my order? lookup_order orderId=NW-10042';

export interface Exchange {
  location: string;
  status: number;
  routedTo: string | null;
  path: string | null;
  body: string;
}

export async function scriptedRun(playground: Playground): Promise<Exchange[]> {
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${playground.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  };
  const exchanges: Exchange[] = [];
  const ask = async (location: string, text: string, headers: Record<string, string> = {}, conversation?: string): Promise<string> => {
    const located = { 'x-local-location': location, ...headers };
    let id = conversation;
    if (!id) {
      const minted = await fetch(`${playground.url}/v1/conversations`, { method: 'POST', headers: located });
      id = ((await minted.json()) as { conversationId: string }).conversationId;
    }
    const response = await fetch(`${playground.url}/v1/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...located },
      body: JSON.stringify({ text }),
    });
    const body = await response.text();
    exchanges.push({
      location,
      status: response.status,
      routedTo: response.headers.get('x-local-routed-to'),
      path: response.headers.get('x-agent-path'),
      body,
    });
    return id;
  };

  // Every region answers a plain question and a tool loop.
  for (const location of ['us', 'us-west', 'eu', 'eu-central']) {
    const conversation = await ask(location, 'hello');
    await ask(location, TOOL_QUESTION, {}, conversation);
  }
  // In each jurisdiction, a retry while the first try runs (a 409), and two messages at once on one conversation: one of
  // them finds the key or the exchange already claimed by a write that fails its condition (which one depends on timing).
  for (const location of ['us', 'eu']) {
    const conversation = await ask(location, 'once');
    const headers = { 'idempotency-key': `retry-${location}` };
    await Promise.all([ask(location, 'only once', headers, conversation), ask(location, 'only once', headers, conversation)]);
    await Promise.all([ask(location, 'one', {}, conversation), ask(location, 'two', {}, conversation)]);
  }
  // us-east-1's primary answers 503: a regional fallback.
  await control('POST', '/_local/faults', { region: 'us-east-1', fault: { status: 503 }, times: 1 });
  await ask('us', 'and now?');
  // Sonnet throttled in both US regions: the degraded model answers.
  for (const region of ['us-east-1', 'us-west-2']) await control('POST', '/_local/faults', { region, model: SONNET_US, fault: { status: 429 }, times: 1 });
  await ask('us-west', 'still there?');
  // A mid-stream failure, slow tokens and a stall below the first-token deadline in the EU.
  await control('POST', '/_local/faults', { region: 'eu-central-1', fault: { failAfterTokens: 2 }, times: 1 });
  await ask('eu-central', 'tell me more');
  await control('POST', '/_local/faults', { region: 'eu-west-1', fault: { tokenDelayMs: 20 }, times: 1 });
  await control('POST', '/_local/faults', { region: 'eu-west-1', fault: { stallMs: 200 }, times: 1 });
  await ask('eu', 'slowly');
  await ask('eu', 'after a pause');
  // The loop's second step fails once at the primary: a fallback in the middle of the loop.
  await control('POST', '/_local/faults', { region: 'us-east-1', step: 2, fault: { status: 503 }, times: 1 });
  await ask('us', TOOL_QUESTION);
  // eu-west-1 down: its health check fails, EU callers reach eu-central-1.
  await control('POST', '/_local/regions/eu-west-1/down');
  await ask('eu', 'where am I served?');
  // Route 53 (and so the playground) calls a region unhealthy after its failure threshold of checks in a row: 3.
  for (let check = 0; check < 3; check += 1) await playground.healthChecks();
  // The scheduled probes, with a fallback link broken: its probe fails.
  await control('POST', '/_local/faults', { region: 'eu-central-1', fault: { status: 503 }, times: 2 });
  await playground.probes();
  await control('POST', '/_local/regions/eu-west-1/up');
  await control('DELETE', '/_local/faults');
  return exchanges;
}
