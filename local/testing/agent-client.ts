/**
 * A caller of a local deployment: it sends messages as a user in one
 * location (through the front door, routed as Route 53 would) or straight
 * to one region's runtime, and hands back each answer's events, read to
 * the end, with the fields a test asserts on most.
 */
import type { AgentEvent, AnswerPath, AnswerStep, DoneEvent, ErrorEvent, StartEvent, ToolCallEvent, ToolResultEvent } from './events';

/** Where a client's requests go. */
export interface ClientTarget {
  /** A caller location (`us`, `us-west`, `eu`, `eu-central`, `apac`…): the front door routes it as the deployed records would. */
  location?: string;
  /** One region's runtime, reached directly (no routing); not with `location`. */
  region?: string;
  /** The IAM principal the requests are signed as (conversations belong to it). @default 'local-user' */
  principal?: string;
}

/** Options of one {@link AgentClient.send}. */
export interface SendOptions {
  /** The conversation to continue. @default - a new conversation, minted first */
  conversationId?: string;
  /** Sent as the Idempotency-Key header. @default - none: no key is sent, and a retry is a new message */
  idempotencyKey?: string;
}

/** One answer, read to its end. */
export interface AgentReply {
  /** The HTTP status: 200 once the answer started, even when it failed later (then `error` is set). */
  status: number;
  /** The conversation the message went to (minted first when none was given). */
  conversationId: string;
  /** Every event, in order (an error response before any output is one `error` event). */
  events: AgentEvent[];
  /** The answer's text: its deltas joined. */
  text: string;
  /** The `tool_call` events, in order. */
  toolCalls: ToolCallEvent[];
  /** The `tool_result` events, in order. */
  toolResults: ToolResultEvent[];
  /** Each model call of the answer, with the tools it called. */
  steps: AnswerStep[];
  /** What served the answer (its last step); undefined when it failed before any output. */
  path?: AnswerPath;
  /** The model that served the answer (its last step). */
  model?: string;
  /** The region that served the answer (its last step). */
  region?: string;
  /** True when another model than the configured one served it (`model-fallback`, an outside provider). */
  degraded?: boolean;
  /** `bedrock`, or the outside provider that served it (`openai:us`). */
  provider?: string;
  /** Why the model stopped (`end_turn`…); undefined when the answer failed. */
  stopReason?: string;
  /** Both turns of the exchange were durably stored. */
  stored: boolean;
  /** `degraded` when the conversation's history could not be read. */
  state?: 'ok' | 'degraded';
  /** The region whose runtime answered (the `x-agent-runtime-region` header). */
  runtimeRegion?: string;
  /** Set when the answer failed, before or after its first output. */
  error?: { code: string; message: string; retryable: boolean };
}

/** A stored turn of a conversation, oldest first (`GET /v1/conversations/{id}`). */
export interface StoredTurn {
  /** Who wrote it. */
  role: 'user' | 'assistant';
  /** The message or answer text. */
  text: string;
  /** When it was written (ISO 8601). */
  time: string;
  /** The runtime region that received the message (user) or the endpoint region that answered (assistant). */
  region?: string;
  /** The tier that answered (assistant turns). */
  path?: AnswerPath;
  /** The model that answered (assistant turns). */
  model?: string;
  /** The model calls and tool runs of an answer that used tools. */
  steps?: AnswerStep[];
  [field: string]: unknown;
}

/** A caller of a local deployment, made by {@link LocalDeployment.client}: sends messages as a user in one location, or to one region's runtime, and reads each answer to its end. */
export class AgentClient {
  private readonly headers: Record<string, string>;

  /** @internal made by LocalDeployment.client() */
  constructor(
    private readonly baseUrl: string,
    target: ClientTarget,
  ) {
    this.headers = {
      ...(target.location ? { 'x-local-location': target.location } : {}),
      ...(target.principal !== undefined ? { 'x-local-principal': target.principal } : {}),
    };
  }

  /** Mints a conversation id (`<jurisdiction>.<id>`) in the jurisdiction this client reaches. */
  async newConversation(): Promise<string> {
    const response = await fetch(`${this.baseUrl}/v1/conversations`, { method: 'POST', headers: this.headers });
    const body = (await response.json()) as { conversationId?: string; error?: { message: string } };
    if (!body.conversationId) throw new Error(`minting a conversation failed (${response.status}): ${body.error?.message ?? JSON.stringify(body)}`);
    return body.conversationId;
  }

  /** Sends a message and reads its answer to the end; an answer that fails is returned (with `error`), not thrown. */
  async send(text: string, options: SendOptions = {}): Promise<AgentReply> {
    const conversationId = options.conversationId ?? (await this.newConversation());
    const response = await fetch(`${this.baseUrl}/v1/conversations/${encodeURIComponent(conversationId)}/messages`, {
      method: 'POST',
      headers: {
        ...this.headers,
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      body: JSON.stringify({ text }),
    });
    const body = await response.text();
    const events = (response.headers.get('content-type') ?? '').startsWith('text/event-stream') ? parseEvents(body) : [errorEventOf(response.status, body)];
    return replyOf(response.status, conversationId, events, response.headers.get('x-agent-runtime-region') ?? undefined);
  }

  /** The conversation's stored turns, oldest first. */
  async history(conversationId: string): Promise<StoredTurn[]> {
    const response = await fetch(`${this.baseUrl}/v1/conversations/${encodeURIComponent(conversationId)}`, { headers: this.headers });
    const body = (await response.json()) as { turns?: StoredTurn[]; error?: { message: string } };
    if (!response.ok) throw new Error(`reading ${conversationId} failed (${response.status}): ${body.error?.message ?? JSON.stringify(body)}`);
    return body.turns ?? [];
  }
}

/** The events of a complete server-sent event stream as the runtime writes it (`event:` and one `data:` line each). */
export function parseEvents(body: string): AgentEvent[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const type = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}') as object;
      return { type, ...data } as AgentEvent;
    });
}

/** A response that is one JSON error (before any output): `{"error":{"code","message"}}`. */
function errorEventOf(status: number, body: string): ErrorEvent {
  const error = errorBodyOf(body);
  return { ...error, type: 'error', code: error.code ?? `http_${status}`, message: error.message ?? '', retryable: error.retryable ?? status >= 500 };
}

function errorBodyOf(body: string): Partial<ErrorEvent> {
  try {
    return (JSON.parse(body) as { error?: Partial<ErrorEvent> }).error ?? {};
  } catch {
    return { message: body };
  }
}

function replyOf(status: number, conversationId: string, events: AgentEvent[], runtimeRegion: string | undefined): AgentReply {
  const ofType = <Type extends AgentEvent['type']>(type: Type) => events.filter((event): event is Extract<AgentEvent, { type: Type }> => event.type === type);
  const start = ofType('start')[0] as StartEvent | undefined;
  const end = events.find((event): event is DoneEvent | ErrorEvent => event.type === 'done' || event.type === 'error');
  const steps = end?.steps ?? [];
  const last = steps.at(-1) ?? start;
  return {
    status,
    conversationId,
    events,
    text: ofType('delta')
      .map((delta) => delta.text)
      .join(''),
    toolCalls: ofType('tool_call'),
    toolResults: ofType('tool_result'),
    steps,
    path: end?.path ?? last?.path,
    model: end?.model ?? last?.model,
    region: end?.region ?? last?.region,
    degraded: end?.degraded ?? last?.degraded,
    provider: end?.provider ?? last?.provider,
    stopReason: end?.type === 'done' ? end.stopReason : undefined,
    stored: end?.stored ?? false,
    state: end?.state ?? start?.state,
    runtimeRegion,
    error: end?.type === 'error' ? { code: end.code, message: end.message, retryable: end.retryable } : undefined,
  };
}
