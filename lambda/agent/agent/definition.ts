/**
 * The user's agent, as their entry file declares it:
 *
 *   export default defineAgent({ instructions, tools: { lookup_order: tool({...}) }, maxSteps: 8 });
 *
 * The runtime owns what makes the agent safe (the fallback chain, deadlines,
 * residency, state, metrics); the definition owns what makes it this agent:
 * its instructions and its tools. Tools written for the AI SDK
 * (`tool({ description, inputSchema, execute })` from `ai`) work unchanged:
 * their `execute(input, { toolCallId, abortSignal, messages })` gets a
 * context carrying those fields and this runtime's own.
 *
 * A definition is validated where it is made, so a bad one fails the
 * synthesis that bundles it (and, were it deployed anyway, the function's
 * initialization), with a message naming the tool and the field.
 */
import { AGENT_KIND, DEFAULT_MAX_STEPS, TOOL_NAME_PATTERN } from './agent-kind';
import { normalizeSchema, ToolSchemaError, type JsonSchema, type ValidationResult } from './tool-schema';

export { AGENT_KIND, DEFAULT_MAX_STEPS, TOOL_NAME_PATTERN, agentOf, isAgentDefinition } from './agent-kind';

/** What a tool call knows about the request it serves. */
export interface ToolContext {
  /** The id the model gave this tool use (the AI SDK's name for it). */
  toolCallId: string;
  /** Aborted when the tool's time is up or the client has gone (the AI SDK's name for it). */
  abortSignal: AbortSignal;
  /** The AI SDK passes the model messages here; this runtime passes none (tools get the conversation id instead). */
  messages: never[];
  /** The conversation the tool call serves. */
  conversationId: string;
  /** The conversation's owner (see docs/http-api.md, Owners); for a backend acting for an end user, the backend. */
  caller: string;
  /** The end user a backend acts for (`x-agent-end-user`), when it names one: the conversation is theirs. */
  endUser?: string;
  /** The region whose runtime runs the tool. */
  region: string;
  /** Milliseconds until the tool's own timeout or the request's budget, whichever comes first. */
  remainingTimeMs(): number;
}

/** A tool written in code: the AI SDK's `tool()` shape, with an optional per-tool timeout. */
export interface AgentTool<Input = never, Output = unknown> {
  /** What the tool does, as the model reads it; the tool's name when left out (Bedrock refuses an empty one). */
  description?: string;
  /** A zod (4.2+) schema, another Standard JSON Schema, the AI SDK's jsonSchema(), or a JSON Schema object; it must describe an object. */
  inputSchema: unknown;
  /** Runs one call: validated input in, any JSON-serializable value out; a throw is told to the model as the tool's error. */
  execute?(input: Input, context: ToolContext): Output | PromiseLike<Output>;
  /** How long one call may run before the model is told it timed out. @default the agent's toolTimeoutMs */
  timeoutMs?: number;
  /** Whether a call waits for its conversation's owner to approve it (see docs/http-api.md, Approvals): the AI SDK 6 shape, decided per call. @default false */
  needsApproval?: NeedsApproval<Input>;
}

/** A tool's approval rule: always, never, or decided per call from its validated input (a function that throws counts as "needs approval"). */
export type NeedsApproval<Input = unknown> = boolean | ((input: Input, context: ToolContext) => boolean | Promise<boolean>);

/**
 * Any object of the tool shape: `execute` may declare the AI SDK's options
 * type for its second argument, which this runtime's context satisfies.
 */
export interface ToolLike {
  /** What the tool does, as the model reads it; the tool's name when left out. */
  description?: string;
  /** The input's schema (see {@link AgentTool.inputSchema}). */
  inputSchema: unknown;
  /** Runs one call (see {@link AgentTool.execute}). */
  execute?: (...args: never[]) => unknown;
  /** How long one call may run; the agent's toolTimeoutMs when left out. */
  timeoutMs?: number;
  /** Whether a call waits for its owner's approval (see {@link AgentTool.needsApproval}). */
  needsApproval?: boolean | ((...args: never[]) => unknown);
}

/** What {@link defineAgent} takes: the agent's instructions, its tools and the limits of its tool loop. */
export interface AgentProps {
  /**
   * The system prompt, of any practical size: it is shipped in the code
   * bundle, never in the function's environment. Import it from a file with
   * `import instructions from './instructions.md'` (bundled as text).
   * @default - none
   */
  instructions?: string;
  /** Tools by name (Bedrock's rule: 1-64 of A-Z a-z 0-9 _ -): made with tool(), the AI SDK's tool(), or objects of that shape. @default - none */
  tools?: Record<string, ToolLike>;
  /** Model calls per message; the loop ends with stop reason `max_steps` after the last. @default 10 */
  maxSteps?: number;
  /** Each tool call's time limit, unless the tool sets its own. @default 10000 */
  toolTimeoutMs?: number;
  /**
   * Extended thinking for models that offer it through Bedrock (Anthropic
   * Claude): the token budget of each step's reasoning. Other models of the
   * chain are called without it, and never see another model's reasoning.
   * @default - no extended thinking
   */
  reasoning?: { budgetTokens: number };
}

/** A tool the loop can run: validated input in, any JSON-serializable output out. */
export interface RunnableTool {
  name: string;
  description: string;
  inputSchema: JsonSchema;
  timeoutMs: number;
  validate(input: unknown): Promise<ValidationResult>;
  execute(input: unknown, context: ToolContext): Promise<unknown>;
  /** Whether a call waits for the owner's approval: always, or decided per call from its validated input. @default false */
  needsApproval?: boolean | ((input: unknown, context: ToolContext) => boolean | Promise<boolean>);
}

/** Plain data about a definition, for synthesis: what the constructs check and report. */
export interface AgentManifest {
  /** Always `AGENT_KIND`. */
  kind: typeof AGENT_KIND;
  /** The instructions' size in UTF-8 bytes (0 without instructions). */
  instructionsBytes: number;
  /** Model calls per message. */
  maxSteps: number;
  /** Each tool call's time limit, unless the tool sets its own. */
  toolTimeoutMs: number;
  /** The extended-thinking budget, when the agent asks for one. */
  reasoning?: { budgetTokens: number };
  /** Each tool as the model is told of it, with its own time limit. */
  tools: Array<{ name: string; description: string; inputSchema: JsonSchema; timeoutMs: number }>;
}

/** An agent, as {@link defineAgent} made and validated it: what the entry file exports by default and the runtime loads. */
export interface AgentDefinition {
  /** Always `AGENT_KIND`: how the runtime recognises a definition from any copy of this package. */
  readonly kind: typeof AGENT_KIND;
  /** The system prompt given to {@link defineAgent}, if any. */
  readonly instructions?: string;
  /** Model calls per message. */
  readonly maxSteps: number;
  /** Each tool call's time limit, unless the tool sets its own. */
  readonly toolTimeoutMs: number;
  /** The extended-thinking budget, when the agent asks for one. */
  readonly reasoning?: { budgetTokens: number };
  /** The tools, validated, ready for the loop. */
  readonly tools: readonly RunnableTool[];
  /** Plain data about the definition, for synthesis. */
  manifest(): AgentManifest;
}

/** Each tool call's time limit in milliseconds when neither the agent nor the tool sets one. */
export const DEFAULT_TOOL_TIMEOUT_MS = 10_000;
const MAX_MAX_STEPS = 50;

/** A definition that cannot be used; the message names the tool or field. */
export class AgentDefinitionError extends Error {
  /** Always `AgentDefinitionError`. */
  override readonly name = 'AgentDefinitionError';
}

/** Types a tool's `execute` input from its zod (or other Standard Schema) schema. */
export function tool<Schema, Output>(definition: {
  description?: string;
  inputSchema: Schema;
  timeoutMs?: number;
  needsApproval?: NeedsApproval<InputOf<Schema>>;
  execute(input: InputOf<Schema>, context: ToolContext): Output | PromiseLike<Output>;
}): AgentTool<InputOf<Schema>, Output> {
  return definition;
}

type InputOf<Schema> = Schema extends { '~standard': { types?: { output: infer Output } } } ? Output : Record<string, unknown>;

/** The agent of an entry file (its default export): validated now, so a bad definition fails the synthesis that bundles it, naming the tool and field. */
export function defineAgent(props: AgentProps): AgentDefinition {
  const maxSteps = props.maxSteps ?? DEFAULT_MAX_STEPS;
  const toolTimeoutMs = props.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  checkInteger('maxSteps', maxSteps, 1, MAX_MAX_STEPS);
  checkInteger('toolTimeoutMs', toolTimeoutMs, 1, 900_000);
  if (props.instructions !== undefined && typeof props.instructions !== 'string') throw new AgentDefinitionError('instructions must be a string');
  if (props.reasoning) checkInteger('reasoning.budgetTokens', props.reasoning.budgetTokens, 1024, 128_000);
  const tools = Object.entries(props.tools ?? {}).map(([name, definition]) => runnableTool(name, definition, toolTimeoutMs));
  const definition: AgentDefinition = {
    kind: AGENT_KIND,
    instructions: props.instructions,
    maxSteps,
    toolTimeoutMs,
    reasoning: props.reasoning,
    tools,
    manifest: () => ({
      kind: AGENT_KIND,
      instructionsBytes: Buffer.byteLength(props.instructions ?? ''),
      maxSteps,
      toolTimeoutMs,
      ...(props.reasoning ? { reasoning: props.reasoning } : {}),
      tools: tools.map(({ name, description, inputSchema, timeoutMs }) => ({ name, description, inputSchema, timeoutMs })),
    }),
  };
  return definition;
}

function runnableTool(name: string, definition: ToolLike, defaultTimeoutMs: number): RunnableTool {
  const where = `tool '${name}'`;
  if (!TOOL_NAME_PATTERN.test(name)) throw new AgentDefinitionError(`${where}: Bedrock accepts tool names of 1-64 characters of A-Z a-z 0-9 _ -`);
  if (!definition || typeof definition !== 'object')
    throw new AgentDefinitionError(`${where}: must be an object such as tool({ description, inputSchema, execute })`);
  const execute = definition.execute;
  if (typeof execute !== 'function')
    throw new AgentDefinitionError(`${where}: has no execute function (tools run in the runtime; client-side tools are not supported)`);
  const timeoutMs = definition.timeoutMs ?? defaultTimeoutMs;
  checkInteger(`${where}: timeoutMs`, timeoutMs, 1, 900_000);
  const needsApproval = definition.needsApproval;
  if (needsApproval !== undefined && typeof needsApproval !== 'boolean' && typeof needsApproval !== 'function')
    throw new AgentDefinitionError(`${where}: needsApproval must be true, false or a function (input, context) => boolean, got ${typeof needsApproval}`);
  let schema;
  try {
    schema = normalizeSchema(definition.inputSchema);
  } catch (error) {
    if (error instanceof ToolSchemaError) throw new AgentDefinitionError(`${where}: inputSchema: ${error.message}`);
    throw error;
  }
  return {
    name,
    // Bedrock refuses an empty description; the name is a fair one.
    description: definition.description?.trim() || name,
    inputSchema: schema.jsonSchema,
    timeoutMs,
    validate: schema.validate,
    execute: async (input, context) => (execute as (input: unknown, context: ToolContext) => unknown).call(definition, input, context),
    ...(needsApproval ? { needsApproval: needsApproval as RunnableTool['needsApproval'] } : {}),
  };
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new AgentDefinitionError(`${field} must be an integer from ${min} to ${max}, got ${value}`);
}
