/**
 * The emulated model behind the Bedrock emulator: what it answers to a
 * Converse request, as a pure function of the model id, the region and the
 * request, so that tests can predict every answer and every tool call.
 *
 * Tool use is driven by the question (the last user text of the
 * conversation): tools it names are called, groups of them separated by the
 * word `then` in successive steps, each with an input built from the tool's
 * schema and the `<prop>=<value>` pairs of the question. Once no group is
 * left, the model answers in text, quoting the tool results it was given.
 */
import { createHash } from 'node:crypto';

/** A content block of a Converse message, as the SDK serializes it (one member set). */
export interface ContentBlock {
  text?: string;
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
  toolResult?: { toolUseId?: string; status?: 'success' | 'error'; content?: Array<{ json?: unknown; text?: string }> };
  reasoningContent?: { reasoningText?: { text?: string; signature?: string }; redactedContent?: unknown };
  cachePoint?: { type?: string };
  [other: string]: unknown;
}

export interface ConverseMessage {
  role?: string;
  content?: ContentBlock[];
}

export interface ToolSpec {
  name?: string;
  description?: string;
  inputSchema?: { json?: unknown };
}

/** The body of a Converse or ConverseStream request, as the SDK sends it. */
export interface ConverseRequest {
  messages?: ConverseMessage[];
  system?: Array<{ text?: string; cachePoint?: { type?: string } }>;
  toolConfig?: { tools?: Array<{ toolSpec?: ToolSpec; cachePoint?: { type?: string } }>; toolChoice?: unknown };
  additionalModelRequestFields?: { thinking?: { type?: string; budget_tokens?: number } } & Record<string, unknown>;
}

/** One block of the model's answer, before it is framed as events or a JSON body. */
export type AnswerBlock =
  | { kind: 'reasoning'; text: string; signature: string }
  | { kind: 'text'; text: string }
  | { kind: 'toolUse'; toolUseId: string; name: string; input: unknown };

export interface ModelAnswer {
  blocks: AnswerBlock[];
  stopReason: 'end_turn' | 'tool_use';
}

/** A tool's result as the final answer quotes it. */
export interface ToolOutcome {
  tool: string;
  /** The result's value: a `json` block's value, a `text` block's string, an array of them for several blocks. */
  result: unknown;
  /** @default 'success' */
  status?: 'success' | 'error';
}

/** Naming this word in the question makes the model call its first named tool at every step, never answering. */
export const LOOP_FOREVER = 'loop_forever';

/** The model id without an ARN's prefix nor an inference profile's geography (`eu.`, `us.`, `global.`…). */
export function baseModelId(modelId: string): string {
  const resource = modelId.slice(modelId.lastIndexOf('/') + 1);
  return resource.replace(/^(eu|us|us-gov|apac|ap|ca|jp|au|global)\./, '');
}

/** `anthropic`, `amazon`, `meta`…: the provider part of a model id. */
export function modelFamily(modelId: string): string {
  return baseModelId(modelId).split('.')[0];
}

export function isAnthropic(modelId: string): boolean {
  return modelFamily(modelId) === 'anthropic';
}

export function thinkingEnabled(request: ConverseRequest): boolean {
  return request.additionalModelRequestFields?.thinking?.type === 'enabled';
}

/**
 * The index of the message that asked the question: the last user message
 * holding text and no tool result. Later user messages only carry tool results.
 */
function questionIndex(messages: ConverseMessage[]): number {
  for (let index = messages.length - 1; index >= 0; index--) {
    const content = messages[index].content ?? [];
    if (messages[index].role === 'user' && content.some((block) => typeof block.text === 'string') && !content.some((block) => block.toolResult)) {
      return index;
    }
  }
  return -1;
}

/** Which model call of the question's tool loop this is: 1 + the user messages after the question. */
export function conversationStep(messages: ConverseMessage[]): number {
  const asked = questionIndex(messages);
  return 1 + messages.slice(asked + 1).filter((message) => message.role === 'user').length;
}

function questionText(messages: ConverseMessage[]): string {
  const asked = messages[questionIndex(messages)];
  return (asked?.content ?? []).map((block) => block.text ?? '').join(' ');
}

/** The first words of the question, as every answer repeats them. */
function plainAnswer(modelId: string, region: string, question: string): string {
  const words = question.trim().split(/\s+/).filter(Boolean).slice(0, 8).join(' ');
  return `Answer from ${modelId} in ${region} to: ${words}`;
}

/** The text of the final answer, quoting each tool outcome as compact JSON. */
export function answerText(modelId: string, region: string, question: string, outcomes: readonly ToolOutcome[] = []): string {
  const plain = plainAnswer(modelId, region, question);
  if (outcomes.length === 0) return plain;
  const quoted = outcomes.map(({ tool, result, status }) =>
    status === 'error' ? `${tool} failed: ${JSON.stringify(result)}` : `${tool}=${JSON.stringify(result)}`,
  );
  return `${plain} using ${quoted.join(', ')}`;
}

/** Splits a text into the deltas a stream sends: words, each but the last with its following space. */
export function deltasOf(text: string): string[] {
  const words = text.split(' ');
  return words.map((word, index) => (index === words.length - 1 ? word : `${word} `));
}

/** Splits a tool input's JSON into the two or more fragments a stream sends. */
export function fragmentsOf(json: string): string[] {
  const count = Math.max(2, Math.ceil(json.length / 16));
  const size = Math.max(1, Math.ceil(json.length / count));
  const fragments: string[] = [];
  for (let start = 0; start < json.length; start += size) fragments.push(json.slice(start, start + size));
  return fragments.length >= 2 ? fragments : [...fragments, ''];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where `name` stands in `text` as a word of its own (tool names may hold `_` and `-`), or -1. */
function namePosition(text: string, name: string): number {
  return text.search(new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(name)}(?![A-Za-z0-9_-])`));
}

/** The tools named in `text`, in the order they appear. */
function namedTools(text: string, tools: readonly string[]): string[] {
  return tools
    .map((name) => ({ name, at: namePosition(text, name) }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at)
    .map(({ name }) => name);
}

/** What the model does at one step of a tool loop: call these tools, their inputs read from this text. */
interface StepPlan {
  tools: string[];
  text: string;
}

/** The tools to call at `step`, or undefined when the model answers in text. */
function planStep(question: string, tools: readonly string[], step: number): StepPlan | undefined {
  if (tools.length === 0) return undefined;
  if (namePosition(question, LOOP_FOREVER) >= 0) {
    const first = namedTools(question, tools)[0];
    return first ? { tools: [first], text: question } : undefined;
  }
  const groups = question
    .split(/(?<![A-Za-z0-9_-])then(?![A-Za-z0-9_-])/i)
    .map((text) => ({ tools: namedTools(text, tools), text }))
    .filter((group) => group.tools.length > 0);
  return groups[step - 1];
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/** The value following `<prop>=` in the first of `texts` that gives one, up to whitespace. */
function givenValue(texts: readonly string[], property: string): string | undefined {
  const pattern = new RegExp(`(?:^|\\s)${escapeRegExp(property)}=(\\S+)`);
  for (const text of texts) {
    const value = pattern.exec(text)?.[1];
    if (value !== undefined) return value;
  }
  return undefined;
}

function schemaType(schema: JsonSchema): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.find((type) => type !== undefined && type !== 'null') ?? (schema.properties ? 'object' : undefined);
}

/**
 * A value for one property: the question's `<prop>=` value converted to the
 * property's type, or a default. A given value that does not parse for its
 * type is passed raw, so that a test can provoke input the schema refuses.
 */
function propertyValue(schema: JsonSchema, given: string | undefined, texts: readonly string[]): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return given ?? schema.enum[0];
  switch (schemaType(schema)) {
    case 'object':
      return toolInput(schema, texts);
    case 'integer':
      return given === undefined ? 1 : /^-?\d+$/.test(given) ? Number(given) : given;
    case 'number':
      return given === undefined ? 1 : given.trim() !== '' && Number.isFinite(Number(given)) ? Number(given) : given;
    case 'boolean':
      return given === undefined ? true : given === 'true' ? true : given === 'false' ? false : given;
    case 'array':
      return [];
    default:
      return given ?? 'sample';
  }
}

/**
 * The input the model gives a tool: a value for every required property of
 * its schema, recursing into objects; values are read from the step's group
 * of the question first, then from the whole question.
 */
export function toolInput(schema: unknown, texts: readonly string[]): Record<string, unknown> {
  const object = (schema ?? {}) as JsonSchema;
  const input: Record<string, unknown> = {};
  for (const property of object.required ?? []) {
    input[property] = propertyValue(object.properties?.[property] ?? {}, givenValue(texts, property), texts);
  }
  return input;
}

/** Tool-use ids are deterministic: the same conversation gets the same ids from every model and region. */
function toolUseId(question: string, position: number, step: number, index: number): string {
  const digest = createHash('sha256').update(`${position}\n${question}\n${step}\n${index}`).digest('base64url');
  return `tooluse_${digest.slice(0, 22)}`;
}

/** The value of a tool result's content, as the final answer quotes it. */
function resultValue(content: ReadonlyArray<{ json?: unknown; text?: string }>): unknown {
  const values = content.map((block) => ('json' in block ? block.json : block.text));
  return values.length === 1 ? values[0] : values;
}

/** Every tool result after the question, named after the tool use of the assistant message before it. */
function toolOutcomes(messages: ConverseMessage[]): ToolOutcome[] {
  const outcomes: ToolOutcome[] = [];
  messages.forEach((message, index) => {
    if (index <= questionIndex(messages) || message.role !== 'user') return;
    const uses = (messages[index - 1]?.content ?? []).flatMap((block) => (block.toolUse ? [block.toolUse] : []));
    for (const block of message.content ?? []) {
      if (!block.toolResult) continue;
      const tool = uses.find((use) => use.toolUseId === block.toolResult?.toolUseId)?.name ?? block.toolResult.toolUseId ?? 'unknown';
      outcomes.push({ tool, result: resultValue(block.toolResult.content ?? []), status: block.toolResult.status });
    }
  });
  return outcomes;
}

function reasoningBlock(modelId: string, question: string, step: number, tools: string[] | undefined): AnswerBlock {
  const words = question.trim().split(/\s+/).filter(Boolean).slice(0, 8).join(' ');
  const text = `Step ${step} of: ${words}. ${tools ? `I should call ${tools.join(' and ')}.` : 'I can answer now.'}`;
  const signature = createHash('sha256').update(`${modelId}\n${text}`).digest('base64');
  return { kind: 'reasoning', text, signature };
}

/** What the model answers to a (valid) request. */
export function answer(modelId: string, region: string, request: ConverseRequest): ModelAnswer {
  const messages = request.messages ?? [];
  const question = questionText(messages);
  const step = conversationStep(messages);
  const specs = (request.toolConfig?.tools ?? []).flatMap((tool) => (tool.toolSpec?.name ? [tool.toolSpec] : []));
  const plan = planStep(
    question,
    specs.map((spec) => spec.name!),
    step,
  );
  const blocks: AnswerBlock[] = [];
  if (thinkingEnabled(request) && isAnthropic(modelId)) blocks.push(reasoningBlock(modelId, question, step, plan?.tools));
  if (!plan) {
    blocks.push({ kind: 'text', text: answerText(modelId, region, question, toolOutcomes(messages)) });
    return { blocks, stopReason: 'end_turn' };
  }
  blocks.push({ kind: 'text', text: `Looking up ${plan.tools.join(', ')}.` });
  const position = questionIndex(messages);
  plan.tools.forEach((name, index) => {
    const schema = specs.find((candidate) => candidate.name === name)!.inputSchema?.json;
    blocks.push({ kind: 'toolUse', toolUseId: toolUseId(question, position, step, index), name, input: toolInput(schema, [plan.text, question]) });
  });
  return { blocks, stopReason: 'tool_use' };
}
