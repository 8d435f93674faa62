/**
 * The typed client of the agent's HTTP API (docs/clients.md). No CDK, no
 * runtime code: it runs in Node 20+ and in browsers.
 *
 *   const agent = new AgentClient({ endpoints: agentEndpoints('agent.example.com', { eu: ['eu-west-1', 'eu-central-1'] }) });
 *   const { conversationId } = await agent.createConversation({ jurisdiction: 'eu' });
 *   for await (const event of agent.send(conversationId, 'hello')) …      // or: await agent.send(…).answer()
 */
import { AgentAuth } from './auth';
import { endpointsOf, jurisdictionOf, type AgentEndpoints } from './endpoints';
import { AgentClientError } from './errors';
import { readEvents, type AgentEvent, type DoneEvent, type StartEvent } from './events';
import { Transport, type ApiRequest } from './transport';

/** The header through which a backend names its end user (honoured only for callers granted it). */
export const END_USER_HEADER = 'x-agent-end-user';

/** How an {@link AgentClient} reaches and authorizes against a deployment, and how hard it retries. */
export interface AgentClientOptions {
  /** The names each jurisdiction is served under (`agentEndpoints(...)`, or the shape by hand). */
  endpoints: AgentEndpoints;
  /**
   * The jurisdiction of new conversations, lists, exports and erasure when none is named.
   * @default - the only jurisdiction of `endpoints`
   */
  jurisdiction?: string;
  /** How requests are authorized, as the deployment's API expects. @default AgentAuth.sigv4(): the API's default IAM authorization */
  auth?: AgentAuth;
  /** The end user a backend acts for, sent as `x-agent-end-user`. @default - none: the caller is the owner */
  endUser?: string;
  /** Sent on every request. @default {} */
  headers?: Record<string, string>;
  /** Retries of answers the API marks retryable (after their retry-after). @default 3 */
  maxRetries?: number;
  /** The longest retry-after honoured. @default 20000 */
  maxRetryAfterMs?: number;
  /** How long a name has to start answering before the next one is tried. @default 30000 */
  firstByteTimeoutMs?: number;
  /** @default globalThis.fetch */
  /** The fetch the client sends with (a test double, or a proxy-aware one). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A new conversation, as `POST /v1/conversations` answers it. */
export interface Conversation {
  /** Its id, prefixed with its jurisdiction (`eu.3f0c…`). */
  conversationId: string;
  /** The jurisdiction whose regions hold it. */
  jurisdiction: string;
  /** When it was created (ISO 8601). */
  createdAt: string;
  /** When it expires unless a message extends it (ISO 8601). */
  expiresAt: string;
}

/** One stored turn of a conversation: a user's message or the assistant's answer. */
export interface StoredTurn {
  /** The exchange number: a message and its answer share it. */
  turn: number;
  /** Who wrote it. */
  role: 'user' | 'assistant';
  /** The message or answer text (partial when `incomplete`). */
  text: string;
  /** The tier that answered (`primary`, `regional-fallback`…); null on a user's turn. */
  path: string | null;
  /** The model that answered; null on a user's turn. */
  model: string | null;
  /** The runtime region that received the message (user) or the endpoint region that answered (assistant). */
  region: string;
  /** The outside provider that answered (`openai:eu`); absent for Bedrock and on a user's turn. */
  provider?: string;
  /** When the turn was written (ISO 8601). */
  time: string;
  /** True when the answer stream broke after its first token: the text is partial. */
  incomplete?: boolean;
  /** The model calls and tool runs of an answer that used tools. */
  steps?: unknown[];
}

/** One conversation of a listing, without its turns. */
export interface ConversationSummary {
  /** Its id (`eu.3f0c…`). */
  conversationId: string;
  /** The first words of its first message; empty before the first message. */
  title: string;
  /** The highest exchange number so far (a message that got no answer may leave a gap). */
  turns: number;
  /** When it last changed (ISO 8601); listings are ordered by it, latest first. */
  lastActivity: string;
  /** When it was created (ISO 8601). */
  createdAt: string;
}

/** One page of `listConversations`. */
export interface ConversationPage {
  /** The caller's conversations on this page, latest activity first. */
  conversations: ConversationSummary[];
  /** Where the next page starts; absent on the last page. */
  nextCursor?: string;
}

/** Everything a caller has stored in one jurisdiction, as `GET /v1/export` answers it. */
export interface ConversationExport {
  /** The owner the conversations belong to (the caller's identity, as the API derives it). */
  owner: string;
  /** When the export was read (ISO 8601). */
  exportedAt: string;
  /** Every live conversation of the owner with all its turns, latest activity first. */
  conversations: Array<{ conversationId: string; createdAt: string; turns: StoredTurn[] }>;
}

/** A whole answer: its text, the `start` and `done` facts, and the tool calls and results in order. */
export interface Answer {
  /** The answer's text: every `delta`, joined. */
  text: string;
  /** The `start` event: conversation, turn and the target that started answering. */
  start: StartEvent;
  /** The `done` event: stop reason, usage, latency, the target that finished, and each step. */
  done: DoneEvent;
  /** Every event of the answer, in order. */
  events: AgentEvent[];
}

/** Options of one {@link AgentClient.send} or {@link AgentClient.ask}. */
export interface SendOptions {
  /** The `Idempotency-Key` that makes a retried send answer once (see docs/performance.md, "Retries"). @default - a new UUID; the same on every retry and failover of this send */
  idempotencyKey?: string;
  /** Aborts the request and the answer stream (the client then throws `aborted`). @default - none: the send runs until the answer ends */
  signal?: AbortSignal;
}

/** One message's answer: iterate its events as they come, or await the whole answer (once, either way). */
export interface MessageStream extends AsyncIterable<AgentEvent> {
  /** The `Idempotency-Key` sent with the message, given or generated: reuse it to retry the same message. */
  readonly idempotencyKey: string;
  /** The answer's response headers (x-agent-path…), once it started. */
  readonly headers: Promise<Headers>;
  /** The whole answer; rejects with the `error` event's code when it ends in one. */
  answer(): Promise<Answer>;
}

/** The typed client of the agent's HTTP API: it sends each request to its conversation's jurisdiction only, fails over between that jurisdiction's regions, and retries what the API marks retryable. */
export class AgentClient {
  private readonly transport: Transport;
  private readonly endpoints: AgentEndpoints;
  private readonly defaultJurisdiction?: string;

  /** Checks `endpoints` and `jurisdiction`; throws `unknown_jurisdiction` when they name none or an unknown one. */
  constructor(options: AgentClientOptions) {
    this.endpoints = options.endpoints;
    const names = Object.keys(options.endpoints);
    if (names.length === 0) throw new AgentClientError('unknown_jurisdiction', 'endpoints: name at least one jurisdiction');
    if (options.jurisdiction !== undefined) endpointsOf(options.endpoints, options.jurisdiction);
    this.defaultJurisdiction = options.jurisdiction ?? (names.length === 1 ? names[0] : undefined);
    this.transport = new Transport({
      auth: options.auth ?? AgentAuth.sigv4(),
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      maxRetries: options.maxRetries ?? 3,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 20_000,
      firstByteTimeoutMs: options.firstByteTimeoutMs ?? 30_000,
      headers: { ...options.headers, ...(options.endUser === undefined ? {} : { [END_USER_HEADER]: options.endUser }) },
    });
  }

  /** A new conversation, minted by the jurisdiction's region (its id carries the jurisdiction). */
  async createConversation(options: { jurisdiction?: string; signal?: AbortSignal } = {}): Promise<Conversation> {
    return this.json(this.jurisdiction(options.jurisdiction), { method: 'POST', path: '/v1/conversations', signal: options.signal });
  }

  /** Sends `text`; nothing is sent until the stream is iterated or `answer()` is called. */
  send(conversationId: string, text: string, options: SendOptions = {}): MessageStream {
    const idempotencyKey = options.idempotencyKey ?? crypto.randomUUID();
    return this.stream(
      conversationId,
      {
        path: `/v1/conversations/${encodeURIComponent(conversationId)}/messages`,
        headers: { 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ text }),
      },
      idempotencyKey,
      options.signal,
    );
  }

  /**
   * Answers a tool call that waits for approval (an `approval_required`
   * event): approve it, or deny it with a reason the model reads. The rest
   * of the answer streams like a message's. An answer already given is a
   * 409 `approval_answered` saying what was; when other calls of the same
   * step still wait, the answer is recorded and this rejects with
   * `approvals_waiting` (its body names them).
   */
  approve(
    conversationId: string,
    toolUseId: string,
    decision: { approved: true } | { approved: false; reason?: string },
    options: { signal?: AbortSignal } = {},
  ): MessageStream {
    return this.stream(
      conversationId,
      {
        path: `/v1/conversations/${encodeURIComponent(conversationId)}/approvals/${encodeURIComponent(toolUseId)}`,
        headers: {},
        body: JSON.stringify(decision),
      },
      '',
      options.signal,
    );
  }

  /** A POST whose answer is the agent's events; nothing is sent until the stream is iterated or `answer()` is called. */
  private stream(
    conversationId: string,
    post: { path: string; headers: Record<string, string>; body: string },
    idempotencyKey: string,
    signal: AbortSignal | undefined,
  ): MessageStream {
    // Before any request: an id of a jurisdiction this client has no names for is never sent anywhere.
    const jurisdiction = jurisdictionOf(conversationId, this.endpoints);
    let started: Promise<Response> | undefined;
    const start = () =>
      (started ??= this.request(jurisdiction, {
        method: 'POST',
        path: post.path,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...post.headers },
        body: post.body,
        signal,
      }));
    const events = async function* (): AsyncGenerator<AgentEvent> {
      const response = await start();
      if (response.status === 202) {
        const body = (await response.json()) as Record<string, unknown>;
        throw new AgentClientError('approvals_waiting', 'the answer was recorded; other tool calls of the step still wait for approval', { status: 202, body });
      }
      if (!response.body) throw new AgentClientError('malformed_stream', 'the answer has no body');
      try {
        yield* readEvents(response.body);
      } catch (error) {
        // A stream cut by the caller's own abort says so, not that the server cut it.
        if (signal?.aborted) throw new AgentClientError('aborted', 'the request was aborted', { cause: signal.reason });
        throw error;
      }
    };
    let consumed = false;
    const once = () => {
      if (consumed) throw new AgentClientError('already_consumed', 'a message stream is read once: iterate it or call answer(), not both');
      consumed = true;
      return events();
    };
    return {
      idempotencyKey,
      get headers() {
        return start().then((response) => response.headers);
      },
      [Symbol.asyncIterator]: once,
      answer: () => collect(once()),
    };
  }

  /** Sends `text` and waits for the whole answer. */
  ask(conversationId: string, text: string, options: SendOptions = {}): Promise<Answer> {
    return this.send(conversationId, text, options).answer();
  }

  /** The stored turns, oldest first. */
  async history(conversationId: string, options: { signal?: AbortSignal } = {}): Promise<StoredTurn[]> {
    const jurisdiction = jurisdictionOf(conversationId, this.endpoints);
    const body = await this.json<{ turns: StoredTurn[] }>(jurisdiction, {
      method: 'GET',
      path: `/v1/conversations/${encodeURIComponent(conversationId)}`,
      signal: options.signal,
    });
    return body.turns;
  }

  /** The caller's conversations, newest first, a page at a time. */
  async *listConversations(options: { jurisdiction?: string; limit?: number; signal?: AbortSignal } = {}): AsyncGenerator<ConversationPage> {
    const jurisdiction = this.jurisdiction(options.jurisdiction);
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams();
      if (options.limit !== undefined) query.set('limit', String(options.limit));
      if (cursor !== undefined) query.set('cursor', cursor);
      const search = query.size > 0 ? `?${query}` : '';
      const page = await this.json<ConversationPage>(jurisdiction, { method: 'GET', path: `/v1/conversations${search}`, signal: options.signal });
      yield page;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  /** Deletes a conversation and its turns; a conversation that is not the caller's is a 404 (`AgentClientError`). */
  async deleteConversation(conversationId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const jurisdiction = jurisdictionOf(conversationId, this.endpoints);
    await this.request(jurisdiction, { method: 'DELETE', path: `/v1/conversations/${encodeURIComponent(conversationId)}`, signal: options.signal });
  }

  /** Every conversation of the caller in the jurisdiction, with its turns. */
  exportAll(options: { jurisdiction?: string; signal?: AbortSignal } = {}): Promise<ConversationExport> {
    return this.json(this.jurisdiction(options.jurisdiction), { method: 'GET', path: '/v1/export', signal: options.signal });
  }

  /** Erases every conversation of the caller in the jurisdiction. */
  eraseAll(options: { jurisdiction?: string; signal?: AbortSignal } = {}): Promise<{ deleted: number }> {
    return this.json(this.jurisdiction(options.jurisdiction), { method: 'DELETE', path: '/v1/conversations', signal: options.signal });
  }

  private jurisdiction(named: string | undefined): string {
    const jurisdiction = named ?? this.defaultJurisdiction;
    if (jurisdiction === undefined)
      throw new AgentClientError('unknown_jurisdiction', `name a jurisdiction (${Object.keys(this.endpoints).join(', ')}): this client has several`);
    endpointsOf(this.endpoints, jurisdiction);
    return jurisdiction;
  }

  /** The response of the jurisdiction's names; an error answer becomes an AgentClientError with the API's code. */
  private async request(jurisdiction: string, request: ApiRequest): Promise<Response> {
    const response = await this.transport.send(endpointsOf(this.endpoints, jurisdiction), request);
    if (response.ok) return response;
    throw await apiError(response);
  }

  private async json<T>(jurisdiction: string, request: ApiRequest): Promise<T> {
    const response = await this.request(jurisdiction, request);
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw new AgentClientError('malformed_response', `${request.method} ${request.path} answered ${response.status} with a body that is not JSON`, {
        cause: error,
      });
    }
  }
}

async function apiError(response: Response): Promise<AgentClientError> {
  const text = await response.text().catch(() => '');
  let body: { error?: { code?: unknown; message?: unknown; retryable?: unknown } } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : `http_${response.status}`;
  const message = typeof body?.error?.message === 'string' ? body.error.message : `the API answered ${response.status}: ${text.slice(0, 200)}`;
  return new AgentClientError(code, message, { status: response.status, retryable: body?.error?.retryable === true, body: body ?? text });
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<Answer> {
  const seen: AgentEvent[] = [];
  let text = '';
  let start: StartEvent | undefined;
  for await (const event of events) {
    seen.push(event);
    if (event.type === 'start') start = event.data;
    else if (event.type === 'delta') text += event.data.text;
    else if (event.type === 'error')
      throw new AgentClientError(event.data.code, event.data.message, { retryable: event.data.retryable, body: { ...event.data, partialText: text } });
    else if (event.type === 'done') {
      if (!start) throw new AgentClientError('malformed_stream', 'the answer ended without `start`');
      return { text, start, done: event.data, events: seen };
    }
  }
  throw new AgentClientError('truncated_stream', 'the answer stream ended without `done` or `error`');
}
