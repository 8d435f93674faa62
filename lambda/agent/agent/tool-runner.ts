/**
 * Runs the tools a model asks for. A tool's failure is an answer to the
 * model, never a crash of the request: a tool that does not exist, input
 * that fails the tool's schema, a tool that throws, outlives its timeout or
 * returns what is not JSON each become an error result the model reads.
 *
 * A result is what JSON makes of it: the model reads, and the exchange
 * stores, the value parsed back from the tool's JSON (a Date is its ISO
 * string, NaN is null), so that both hold the same plain data. Results and
 * error messages larger than their limits are cut, in bytes of JSON as sent,
 * visibly (the model and the stored exchange both see that they were).
 */
import { boundedMessage, jsonBytes, previewOf } from '../bounded-json';
import { TIMED_OUT, within } from '../timeout';
import type { Clock, ToolResultContent, ToolSpec } from '../chain/types';
import { UNDECLARED_TOOL } from '../metric-names';
import type { RunnableTool, ToolContext } from './definition';
import type { ToolSource } from './mcp-tools';

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
  /** The call waits for its owner's approval: it has not run (and has no content yet). */
  awaitingApproval?: true;
}

/** An owner's answer to a call that waited for approval. */
export type ApprovalDecision = { kind: 'approved' } | { kind: 'denied'; reason?: string } | { kind: 'expired' };

/** What the model reads for a call that was not approved. */
export function deniedMessage(decision: Exclude<ApprovalDecision, { kind: 'approved' }>): string {
  if (decision.kind === 'expired') return 'denied: approval expired';
  return decision.reason ? `denied: ${decision.reason}` : 'denied';
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
  /** `source` names the MCP server of a tool that has one. */
  toolCompleted(name: string, ok: boolean, durationMs: number, source?: string): void;
}

export interface ToolRunnerProps {
  /** Largest result, in UTF-8 bytes of JSON, given to the model and stored; error messages get at most ERROR_BYTES of it. */
  resultBytes: number;
  clock: Clock;
  reporter: ToolReporter;
  /** Sources whose tools can change while the runtime lives (MCP servers); their tools come after the fixed ones. */
  sources?: readonly ToolSource[];
}

/** An error needs its first lines, not a whole HTML page or stack: at most this many bytes of JSON. */
export const ERROR_BYTES = 8192;

/** What Converse's `{ json }` block adds around a result: a cut result fits the limit with it. */
const CONTENT_BLOCK_BYTES = jsonBytes({ json: {} }) - jsonBytes({});

class ToolTimeout extends Error {}

export class ToolRunner {
  private readonly fixed: Map<string, RunnableTool>;
  private byName: Map<string, RunnableTool>;
  /** The source of each tool that came from one. */
  private sourceOf = new Map<string, string>();

  constructor(
    tools: readonly RunnableTool[],
    private readonly props: ToolRunnerProps,
  ) {
    this.fixed = new Map(tools.map((tool) => [tool.name, tool]));
    this.byName = this.fixed;
  }

  /** What the model is told about the tools. */
  get specs(): ToolSpec[] {
    return [...this.byName.values()].map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
  }

  /** Brings the sources' tools up to date (each keeps its list for a TTL); before a message is answered. */
  async prepare(): Promise<void> {
    const sources = this.props.sources ?? [];
    if (sources.length > 0) this.merge(sources, await Promise.all(sources.map((source) => source.tools())));
  }

  /**
   * Whether this call waits for its owner's approval, decided per call from
   * the tool's rule and its validated input. A call that will fail anyway
   * (no such tool, invalid input) does not wait: it runs nothing. A rule that
   * throws counts as "needs approval": a tool that acts is never run on a
   * rule's failure. A name the lists lack is looked up first, as run() would:
   * a server's new tool may need approval.
   */
  async needsApproval(call: ToolCall, context: ToolRunContext): Promise<boolean> {
    if (!this.byName.has(call.name)) await this.refresh();
    const tool = this.byName.get(call.name);
    const rule = tool?.needsApproval;
    if (!tool || !rule) return false;
    if (rule === true) return true;
    const validation = await tool.validate(call.input).catch(() => ({ ok: false as const }));
    if (!validation.ok) return false;
    try {
      return (await rule(validation.value, this.toolContext(call.id, context, new AbortController().signal, context.deadline))) === true;
    } catch {
      return true;
    }
  }

  /** A call that waits for approval, as its step records it until then. */
  awaiting(call: ToolCall): ToolOutcome {
    return { ...call, ok: false, durationMs: 0, content: [], awaitingApproval: true };
  }

  /** Runs an approved call; a denied or expired one is an error result the model reads, and nothing runs. */
  async decided(call: ToolCall, decision: ApprovalDecision, context: ToolRunContext): Promise<ToolOutcome> {
    if (decision.kind === 'approved') return this.run(call, context);
    return { ...call, ...failure(deniedMessage(decision)), durationMs: 0 };
  }

  async run(call: ToolCall, context: ToolRunContext): Promise<ToolOutcome> {
    const started = this.props.clock.now();
    if (!this.byName.has(call.name)) await this.refresh();
    const attempted = await this.attempt(call, context);
    const outcome = attempted.ok ? attempted : this.failure(attempted.error ?? 'the tool failed');
    const durationMs = this.props.clock.now() - started;
    // Only declared names become metric dimensions: a name the model made up is one more failed call, not a new metric.
    this.props.reporter.toolCompleted(this.byName.has(call.name) ? call.name : UNDECLARED_TOOL, outcome.ok, durationMs, this.sourceOf.get(call.name));
    return { ...call, ...outcome, durationMs };
  }

  /** A name nobody knows: a source may have a tool of that name since its list was read. */
  private async refresh(): Promise<void> {
    const sources = this.props.sources ?? [];
    if (sources.length > 0) this.merge(sources, await Promise.all(sources.map((source) => source.refresh())));
  }

  /** The fixed tools, then each source's in order; a name already taken keeps its first tool (synthesis refuses the clashes it can see). */
  private merge(sources: readonly ToolSource[], lists: RunnableTool[][]): void {
    const byName = new Map(this.fixed);
    const sourceOf = new Map<string, string>();
    lists.forEach((tools, index) => {
      for (const tool of tools) {
        if (byName.has(tool.name)) continue;
        byName.set(tool.name, tool);
        sourceOf.set(tool.name, sources[index].name);
      }
    });
    this.byName = byName;
    this.sourceOf = sourceOf;
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

  /**
   * Runs the tool until it settles or `timeoutMs` (its own timeout, cut to
   * what is left of the request's budget) is up. At the timeout its abort
   * signal fires and the call fails at once: a tool that ignores the signal
   * is not waited for, and runs on unobserved. The client going away fires
   * the same signal but ends nothing here: the call still waits for the
   * tool to settle (with its abort error, if it heeds the signal) or to time out.
   */
  private async execute(tool: RunnableTool, input: unknown, toolUseId: string, context: ToolRunContext, timeoutMs: number): Promise<unknown> {
    const abort = new AbortController();
    const deadline = this.props.clock.now() + timeoutMs;
    const onClientGone = () => abort.abort();
    context.signal?.addEventListener('abort', onClientGone, { once: true });
    try {
      const result = await within(lastValueOf(tool.execute(input, this.toolContext(toolUseId, context, abort.signal, deadline))), timeoutMs);
      if (result !== TIMED_OUT) return result;
      abort.abort();
      throw new ToolTimeout();
    } finally {
      context.signal?.removeEventListener('abort', onClientGone);
    }
  }

  private toolContext(toolUseId: string, context: ToolRunContext, abortSignal: AbortSignal, deadline: number): ToolContext {
    return {
      toolCallId: toolUseId,
      abortSignal,
      messages: [],
      conversationId: context.conversationId,
      caller: context.caller,
      ...(context.endUser !== undefined ? { endUser: context.endUser } : {}),
      region: context.region,
      remainingTimeMs: () => Math.max(0, deadline - this.props.clock.now()),
    };
  }

  private success(value: unknown): Omit<ToolOutcome, keyof ToolCall | 'durationMs'> {
    let json: string | undefined;
    try {
      json = value === undefined ? 'null' : JSON.stringify(value);
    } catch (error) {
      return failure(`the tool's result is not JSON (${(error as Error).message})`);
    }
    if (json === undefined) return failure(`the tool's result is not JSON (a ${typeof value})`);
    const bytes = Buffer.byteLength(json);
    if (bytes <= this.props.resultBytes) {
      const result: unknown = JSON.parse(json);
      return { ok: true, result, content: [contentOf(result)] };
    }
    // Cut, and say so: the model (and whoever reads the stored exchange) must know it saw only part of the result.
    const cut = previewOf(json, bytes, this.props.resultBytes - CONTENT_BLOCK_BYTES);
    return { ok: true, result: cut, truncated: true, content: [{ json: cut }] };
  }

  /** An error result, its message bounded like a result (thrown messages can be whole HTML pages). */
  private failure(error: string): Omit<ToolOutcome, keyof ToolCall | 'durationMs'> {
    const bounded = boundedMessage(error, Math.min(ERROR_BYTES, this.props.resultBytes));
    return { ok: false, error: bounded, content: [{ text: bounded }], ...(bounded !== error ? { truncated: true } : {}) };
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
