/**
 * Tools that live behind an MCP server (streamable HTTP, protocol versions
 * 2025-06-18 and 2025-03-26, and the official SDK's newer ones), used
 * through the official client.
 *
 * The tool list is read when first needed (the first message after a cold
 * start) and kept for a TTL; it is read again sooner when the server says it
 * changed (`notifications/tools/list_changed`) or the model calls a name the
 * list does not have. A session the server has forgotten (HTTP 404 to a
 * request carrying its id) is initialized again, once per request. The
 * request is then sent again: the protocol makes a 404 mean the server did
 * not process it. Any other failure of a `tools/call` after it was sent (a
 * cut connection, a 5xx, no answer in time) may have run the tool, and is
 * told to the model as such: never sent a second time.
 *
 * Every failure is the tool's error, which the model reads: none crashes
 * the request.
 */
import { Validator } from '@cfworker/json-schema';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '../chain/types';
import type { McpServerSpec } from './asset-layout';
import { TOOL_NAME_PATTERN } from './agent-kind';
import type { RunnableTool, ToolContext } from './definition';
import { jsonSchemaInput, type JsonSchema } from './json-schema-input';

/** How long a tool list is kept before it is read again. */
export const MCP_TOOL_LIST_TTL_MS = 5 * 60_000;

/** Where the conversation's ids go in a call's `_meta`, for the server to use (audit, per-user data). */
export const MCP_META_PREFIX = 'cdk-multi-region-agent/';

const CLIENT_INFO = { name: 'cdk-multi-region-agent', version: '1' };

/** A source of tools whose list can change while the runtime lives. */
export interface ToolSource {
  /** What logs and metrics call it. */
  readonly name: string;
  /** Its tools: the cached list, read again when older than its TTL or marked changed. */
  tools(): Promise<RunnableTool[]>;
  /** Its tools, read again now. */
  refresh(): Promise<RunnableTool[]>;
  close(): Promise<void>;
}

export interface McpServerToolsProps {
  fetch: FetchLike;
  clock: Clock;
  ttlMs?: number;
  /** Told when the list cannot be read (the tools stay as last read) or a tool of the server has an unusable name. */
  onProblem?: (server: string, problem: string) => void;
}

/** A request failed in a way that tells whether it may have been processed. */
class McpRequestFailed extends Error {}

export class McpServerTools implements ToolSource {
  readonly name: string;
  private session?: Promise<Client>;
  /** The client `session` resolved to, once it did. */
  private connected?: Client;
  private readonly inFlight = new Map<Client, number>();
  /** Clients of forgotten sessions, closed when their last request settles. */
  private readonly retired = new Set<Client>();
  private listed?: { tools: RunnableTool[]; readAt: number; changed: boolean };
  private reading?: Promise<RunnableTool[]>;

  constructor(
    private readonly spec: McpServerSpec,
    private readonly props: McpServerToolsProps,
  ) {
    this.name = spec.name;
  }

  async tools(): Promise<RunnableTool[]> {
    const listed = this.listed;
    const ttlMs = this.props.ttlMs ?? MCP_TOOL_LIST_TTL_MS;
    if (listed && !listed.changed && this.props.clock.now() - listed.readAt < ttlMs) return listed.tools;
    return this.refresh();
  }

  /** One read at a time: requests arriving meanwhile share it. A failed read keeps the last list (or none). */
  refresh(): Promise<RunnableTool[]> {
    this.reading ??= this.readList()
      .then((tools) => {
        this.listed = { tools, readAt: this.props.clock.now(), changed: false };
        return tools;
      })
      .catch((error: unknown) => {
        this.props.onProblem?.(this.name, `its tool list could not be read: ${describe(error)}`);
        return this.listed?.tools ?? [];
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.connected = undefined;
    const retired = [...this.retired];
    this.retired.clear();
    await Promise.all(
      [session?.then((client) => client.close()), ...retired.map((client) => client.close())].map((closing) => closing?.catch(() => undefined)),
    );
  }

  private async readList(): Promise<RunnableTool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.request((client) => client.listTools(cursor === undefined ? undefined : { cursor }, this.options()), true);
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools.filter((tool) => this.offered(tool.name)).flatMap((tool) => this.runnable(tool));
  }

  private offered(name: string): boolean {
    const { include, exclude } = this.spec;
    return (include === undefined || include.includes(name)) && !(exclude ?? []).includes(name);
  }

  private runnable(tool: Tool): RunnableTool[] {
    const name = `${this.spec.prefix ?? ''}${tool.name}`;
    if (!TOOL_NAME_PATTERN.test(name)) {
      this.props.onProblem?.(this.name, `its tool '${name}' is left out: Bedrock accepts tool names of 1-64 characters of A-Z a-z 0-9 _ -`);
      return [];
    }
    let schema;
    try {
      schema = jsonSchemaInput(tool.inputSchema as JsonSchema, Validator);
    } catch (error) {
      this.props.onProblem?.(this.name, `its tool '${name}' is left out: inputSchema: ${(error as Error).message}`);
      return [];
    }
    const { needsApproval } = this.spec;
    return [
      {
        name,
        description: tool.description?.trim() || tool.title || name,
        inputSchema: schema.jsonSchema,
        timeoutMs: this.spec.timeoutMs,
        validate: schema.validate,
        execute: (input, context) => this.call(tool.name, input, context),
        ...(needsApproval === undefined ? {} : { needsApproval: Array.isArray(needsApproval) ? needsApproval.includes(tool.name) : needsApproval }),
      },
    ];
  }

  private async call(tool: string, input: unknown, context: ToolContext): Promise<unknown> {
    const params = { name: tool, arguments: input as Record<string, unknown>, _meta: metaOf(context) };
    let result: CallToolResult;
    try {
      result = (await this.request((client) => client.callTool(params, undefined, this.options(context.abortSignal)), true)) as CallToolResult;
    } catch (error) {
      if (error instanceof McpRequestFailed || context.abortSignal.aborted) throw error;
      throw new Error(`${describe(error)}; the MCP server may have run the tool`, { cause: error });
    }
    if (result.isError) throw new Error(textOf(result) || 'the MCP server answered an error');
    return resultOf(result);
  }

  /**
   * A request on the current session. A 404 to a request that carried a
   * session id means the server forgot the session and did not process the
   * request: a new session is initialized and the request sent once more.
   */
  private async request<T>(send: (client: Client) => Promise<T>, retryOnExpiredSession: boolean): Promise<T> {
    const client = await this.client();
    // Read before sending: a retired client is closed (losing its transport) as its last request settles.
    const sessionId = (client.transport as StreamableHTTPClientTransport | undefined)?.sessionId;
    try {
      return await this.tracked(client, () => send(client));
    } catch (error) {
      // The SDK's own errors for no answer in time and a closed connection say nothing of what the server did.
      if (error instanceof McpError && error.code !== ErrorCode.RequestTimeout && error.code !== ErrorCode.ConnectionClosed)
        throw new McpRequestFailed(`the MCP server answered error ${error.code}: ${error.message}`);
      if (error instanceof StreamableHTTPError && error.code !== undefined && error.code >= 400 && error.code < 500) {
        const expired = error.code === 404 && sessionId !== undefined;
        if (expired) this.retire(client);
        if (expired && retryOnExpiredSession) return this.request(send, false);
        throw new McpRequestFailed(`the MCP server refused the request (HTTP ${error.code})${expired ? ': its session expired twice' : ''}`);
      }
      throw error;
    }
  }

  /** Counts the client's requests in flight, and closes a retired client when its last one settles. */
  private async tracked<T>(client: Client, send: () => Promise<T>): Promise<T> {
    this.inFlight.set(client, (this.inFlight.get(client) ?? 0) + 1);
    try {
      return await send();
    } finally {
      const left = (this.inFlight.get(client) ?? 1) - 1;
      this.inFlight.set(client, left);
      if (left === 0 && this.retired.has(client)) this.closeRetired(client);
    }
  }

  /** The current session's client, initializing one when there is none. */
  private client(): Promise<Client> {
    if (!this.session) {
      const session = this.connect();
      this.session = session;
      session.then(
        (client) => {
          if (this.session === session) this.connected = client;
        },
        () => {
          if (this.session === session) this.session = undefined;
        },
      );
    }
    return this.session;
  }

  private async connect(): Promise<Client> {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      if (this.listed) this.listed.changed = true;
    });
    const transport = new StreamableHTTPClientTransport(new URL(this.spec.url), {
      fetch: this.props.fetch,
      // The server's own stream (GET) carries its notifications; a Lambda frozen between requests
      // loses it, and the TTL and unknown names refresh the list anyway: one quick try, then none.
      reconnectionOptions: { maxRetries: 1, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 },
    });
    try {
      await client.connect(transport, this.options());
    } catch (error) {
      await client.close().catch(() => undefined);
      throw new McpRequestFailed(`the MCP session could not be initialized: ${describe(error)}`);
    }
    return client;
  }

  /**
   * A session the server forgot: the next request initializes a new one. Its client is closed once its
   * requests in flight have settled: closing it sooner would fail them as "connection closed", which
   * cannot tell a call that ran from one the server refused with its own 404.
   */
  private retire(client: Client): void {
    if (this.connected === client) {
      this.session = undefined;
      this.connected = undefined;
    }
    this.retired.add(client);
    if ((this.inFlight.get(client) ?? 0) === 0) this.closeRetired(client);
  }

  private closeRetired(client: Client): void {
    this.retired.delete(client);
    this.inFlight.delete(client);
    void client.close().catch(() => undefined);
  }

  private options(signal?: AbortSignal) {
    return { timeout: this.spec.timeoutMs, ...(signal ? { signal } : {}) };
  }
}

/** The conversation's ids, for the server (`_meta` keys are prefixed, as the protocol asks of implementations). */
function metaOf(context: ToolContext): Record<string, string> {
  return {
    [`${MCP_META_PREFIX}conversationId`]: context.conversationId,
    [`${MCP_META_PREFIX}caller`]: context.caller,
    ...(context.endUser !== undefined ? { [`${MCP_META_PREFIX}endUser`]: context.endUser } : {}),
    [`${MCP_META_PREFIX}toolUseId`]: context.toolCallId,
    [`${MCP_META_PREFIX}region`]: context.region,
  };
}

/** What the model reads: the structured result when there is one, else the text, else the content blocks. */
function resultOf(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.every((block) => block.type === 'text')) return textOf(result);
  return content;
}

function textOf(result: CallToolResult): string {
  return (result.content ?? []).flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
}

function describe(error: unknown): string {
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) return `HTTP ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
