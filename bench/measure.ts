/** Time to first token through the runtime's app in process, and samples of it (percentiles, ratios and tables: report.ts). */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AgentRuntime } from '../lambda/agent/runtime';

/** TTFT through the runtime's HTTP app in process: from the request to the first SSE delta, in a new conversation of `jurisdiction`. */
export async function runtimeTtft(runtime: AgentRuntime, jurisdiction: string, text: string): Promise<number> {
  const started = performance.now();
  let first: number | undefined;
  let status = 0;
  await runtime.app.handle(
    {
      method: 'POST',
      path: `/v1/conversations/${jurisdiction}.bench-${randomUUID()}/messages`,
      headers: {},
      body: Buffer.from(JSON.stringify({ text })),
      caller: { arn: 'bench' },
      requestId: randomUUID(),
      remainingTimeMs: () => 60_000,
    },
    {
      start: (code) => (status = code),
      write: (chunk) => {
        if (first === undefined && chunk.startsWith('event: delta')) first = performance.now() - started;
      },
      end: () => undefined,
    },
  );
  if (first === undefined) throw new Error(`the runtime answered ${status} without a token`);
  return first;
}

/** `times` measurements after three warm-up ones, sorted. */
export async function sample(times: number, measure: () => Promise<number>): Promise<number[]> {
  for (let warmup = 0; warmup < 3; warmup++) await measure();
  const values: number[] = [];
  for (let index = 0; index < times; index++) values.push(await measure());
  return values.sort((a, b) => a - b);
}
