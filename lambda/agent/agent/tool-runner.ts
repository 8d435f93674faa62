/**
 * Runs the tools a model asks for. A tool's failure is an answer to the
 * model, never a crash of the request: a tool that does not exist, input
 * that fails the tool's schema, a tool that throws, outlives its timeout or
 * returns what is not JSON each become an error result the model reads.
 * Results larger than the limit are cut, visibly (the model and the stored
 * exchange both see that they were).
 */
import type { Clock, ToolResultContent, ToolSpec } from '../chain/types';
import type { RunnableTool, ToolContext } from './definition';

export interface ToolCall {
  id: string;
  name: string;
  input: unknown;
}

export interface ToolOutcome extends ToolCall {
  ok: boolean;
  durationMs: number;
  /** What the model reads. */
  content: ToolResultContent[];
  /** The result as stored (bounded), when ok. */
  result?: unknown;
  /** Why the call failed, when it did (told to the model too). */
  error?: string;
  /** The result was larger than the limit and was cut. */
  truncated?: boolean;
}

/** Where the request's tools run: ids for the tool context, the request's deadline and the client's signal. */
export interface ToolRunContext {
  conversationId: string;
  caller: string;
  /** The end user the caller acts for (`x-agent-end-user`), when it names one. */
  endUser?: string;
  region: string;
  /** Epoch ms: the end of the request's budget; no tool runs past it. */
  deadline: number;
  signal?: AbortSignal;
}

export interface ToolReporter {
  toolCompleted(name: string, ok: boolean, durationMs: number): void;
}

export interface ToolRunnerProps {
  /** Largest result, in UTF-8 bytes of JSON, given to the model and stored. */
  resultBytes: number;
  clock: Clock;
  reporter: ToolReporter;
}

class ToolTimeout extends Error {}

export class ToolRunner {
  private readonly byName: Map<string, RunnableTool>;

  constructor(
    tools: readonly RunnableTool[],
    private readonly props: ToolRunnerProps,
  ) {
    this.byName = new Map(tools.map((tool) => [tool.name, tool]));
  }

  /** What the model is told about the tools. */
  get specs(): ToolSpec[] {
    return [...this.byName.values()].map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
  }

  async run(call: ToolCall, context: ToolRunContext): Promise<ToolOutcome> {
    const started = this.props.clock.now();
    const outcome = await this.attempt(call, context);
    const durationMs = this.props.clock.now() - started;
    this.props.reporter.toolCompleted(call.name, outcome.ok, durationMs);
    return { ...call, ...outcome, durationMs };
  }

  private async attempt(call: ToolCall, context: ToolRunContext): Promise<Omit<ToolOutcome, keyof ToolCall | 'durationMs'>> {
    const tool = this.byName.get(call.name);
    if (!tool) return failure(`there is no tool named '${call.name}'; the tools are ${[...this.byName.keys()].join(', ') || 'none'}`);
    const validation = await tool.validate(call.input).catch((error: unknown) => ({ ok: false as const, message: (error as Error).message }));
    if (!validation.ok) return failure(`invalid input for ${call.name}: ${validation.message}`);
    const timeoutMs = Math.min(tool.timeoutMs, context.deadline - this.props.clock.now());
    if (timeoutMs <= 0) return failure("no time was left in the request's budget to run the tool");
    try {
      return this.success(await this.execute(tool, validation.value, call.id, context, timeoutMs));
    } catch (error) {
      if (error instanceof ToolTimeout) return failure(`${call.name} did not finish within ${timeoutMs} ms`);
      return failure(`${call.name} failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** Runs the tool until it settles or its time is up; a tool that ignores its abort signal is left behind, not waited for. */
  private async execute(tool: RunnableTool, input: unknown, toolUseId: string, context: ToolRunContext, timeoutMs: number): Promise<unknown> {
    const abort = new AbortController();
    const deadline = this.props.clock.now() + timeoutMs;
    const onClientGone = () => abort.abort();
    context.signal?.addEventListener('abort', onClientGone, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new ToolTimeout());
      }, timeoutMs);
    });
    const toolContext: ToolContext = {
      toolCallId: toolUseId,
      abortSignal: abort.signal,
      messages: [],
      conversationId: context.conversationId,
      caller: context.caller,
      ...(context.endUser !== undefined ? { endUser: context.endUser } : {}),
      region: context.region,
      remainingTimeMs: () => Math.max(0, deadline - this.props.clock.now()),
    };
    try {
      return await Promise.race([lastValueOf(tool.execute(input, toolContext)), timedOut]);
    } finally {
      clearTimeout(timer);
      context.signal?.removeEventListener('abort', onClientGone);
    }
  }

  private success(value: unknown): Omit<ToolOutcome, keyof ToolCall | 'durationMs'> {
    let json: string | undefined;
    try {
      json = value === undefined ? 'null' : JSON.stringify(value);
    } catch (error) {
      return failure(`the tool's result is not JSON (${(error as Error).message})`);
    }
    if (json === undefined) return failure(`the tool's result is not JSON (a ${typeof value})`);
    // The result as JSON, what the model reads and the store can hold: a Date becomes its ISO string, not an object DynamoDB refuses.
    const result: unknown = JSON.parse(json);
    if (Buffer.byteLength(json) <= this.props.resultBytes) return { ok: true, result, content: [contentOf(result)] };
    // Cut, and say so: the model (and whoever reads the stored exchange) must know it saw only part of the result.
    const cut = { truncated: true, originalBytes: Buffer.byteLength(json), preview: utf8Prefix(json, this.props.resultBytes - 128) };
    return { ok: true, result: cut, truncated: true, content: [{ json: cut }] };
  }
}

function failure(error: string): Omit<ToolOutcome, keyof ToolCall | 'durationMs'> {
  return { ok: false, error, content: [{ text: error }] };
}

/** Bedrock's tool result JSON is an object: anything else is wrapped; text stays text. */
export function contentOf(result: unknown): ToolResultContent {
  if (typeof result === 'string') return { text: result };
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) return { json: result };
  return { json: { result } };
}

/** AI SDK tools may stream preliminary results as an async iterable: the last one is the result. */
async function lastValueOf(value: unknown): Promise<unknown> {
  const awaited = await value;
  if (awaited === null || typeof awaited !== 'object' || !(Symbol.asyncIterator in awaited)) return awaited;
  let last: unknown;
  for await (const item of awaited as AsyncIterable<unknown>) last = item;
  return last;
}

/** The longest prefix of `text` within `bytes` UTF-8 bytes, cut on a character boundary. */
function utf8Prefix(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8').subarray(0, Math.max(0, bytes));
  return new TextDecoder('utf-8').decode(encoded).replace(/\uFFFD$/, '');
}
