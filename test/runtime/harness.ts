/**
 * Test harness: the Bedrock emulator (one endpoint per region), an embedded
 * DynamoDB with the conversation table, and one region's runtime served on a
 * local port, all on loopback and driven through real SDK clients.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { BedrockEmulator } from '../../local/bedrock-emulator';
import { LOCAL_CREDENTIALS, LocalDynamoDb } from '../../local/dynamodb';
import { AgentServer } from '../../local/agent-server';
import { validateRuntimeConfig, type RuntimeConfigInput } from '../../lambda/agent/config';
import type { RuntimeOverrides } from '../../lambda/agent/runtime';

export const CLAUDE = 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0';
export const NOVA = 'eu.amazon.nova-pro-v1:0';
export const EU_WEST = 'eu-west-1';
export const EU_CENTRAL = 'eu-central-1';
export const US_EAST = 'us-east-1';
export const TABLE = 'agent-conversations-eu';

/** The EU runtime in eu-west-1: Claude here, Claude in eu-central-1, then Nova here (degraded). */
export function euConfig(emulator: BedrockEmulator, dynamo: LocalDynamoDb, overrides: Partial<RuntimeConfigInput> = {}): RuntimeConfigInput {
  return {
    region: EU_WEST,
    jurisdiction: { name: 'eu', regions: [EU_WEST, EU_CENTRAL], geography: 'eu', restricted: true },
    chain: [
      { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
      { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
      { modelId: NOVA, region: EU_WEST, tier: 'model-fallback' },
    ],
    jurisdictionHosts: { eu: 'eu.agent.example.com', us: 'us.agent.example.com' },
    table: { name: TABLE, homeRegion: EU_WEST },
    deadlines: { firstTokenTimeoutMs: 1000, idleTimeoutMs: 2000, totalBudgetMs: 10_000, reserveMs: 500, stateTimeoutMs: 500 },
    prices: { [CLAUDE]: { inputPer1kTokens: 0.003, outputPer1kTokens: 0.015 } },
    endpoints: { bedrock: emulator.endpoints, dynamodb: dynamo.endpoint },
    ...overrides,
  };
}

/**
 * Deadlines for the store that a busy machine's embedded DynamoDB meets: for
 * tests about what is stored, not about how long the store may take (the
 * default 500 ms was outlasted under CI load and the exchange read "degraded").
 */
export const UNHURRIED_STATE = { stateTimeoutMs: 2000, reserveMs: 2000 } as const;

/**
 * Model deadlines a busy machine's emulator meets: for tests about what an
 * answer holds, not about when a target is given up (the default 1 s first
 * token was outlasted under CI load and the answer fell back).
 */
export const UNHURRIED_MODEL = { firstTokenTimeoutMs: 10_000, idleTimeoutMs: 10_000, totalBudgetMs: 30_000 } as const;

export interface Harness {
  emulator: BedrockEmulator;
  dynamo: LocalDynamoDb;
  server: AgentServer;
  output: CapturedOutput;
  close(): Promise<void>;
}

export async function startHarness(
  configure: (emulator: BedrockEmulator, dynamo: LocalDynamoDb) => RuntimeConfigInput | Promise<RuntimeConfigInput> = euConfig,
  options: { requestTimeoutMs?: number; overrides?: RuntimeOverrides } = {},
): Promise<Harness> {
  const output = new CapturedOutput();
  const emulator = await BedrockEmulator.start({ regions: [EU_WEST, EU_CENTRAL, US_EAST] });
  const dynamo = await LocalDynamoDb.start();
  await dynamo.createConversationTable(TABLE);
  const server = await AgentServer.start({
    config: validateRuntimeConfig(await configure(emulator, dynamo)),
    requestTimeoutMs: options.requestTimeoutMs,
    overrides: options.overrides,
  });
  return {
    emulator,
    dynamo,
    server,
    output,
    close: async () => {
      await server.close();
      await emulator.close();
      await dynamo.close();
      output.restore();
    },
  };
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

export interface MessageResult {
  status: number;
  headers: Headers;
  events: SseEvent[];
  json?: Record<string, unknown>;
}

/** Posts a message and reads the whole answer (SSE by default, JSON with `accept`). */
export async function postMessage(
  baseUrl: string,
  conversationId: string,
  body: unknown,
  options: { principal?: string; accept?: string; raw?: string; idempotencyKey?: string } = {},
): Promise<MessageResult> {
  const response = await fetch(`${baseUrl}/v1/conversations/${encodeURIComponent(conversationId)}/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.accept ? { accept: options.accept } : {}),
      ...(options.principal ? { 'x-local-principal': options.principal } : {}),
      ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
    },
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    return { status: response.status, headers: response.headers, events: parseSse(text) };
  }
  return { status: response.status, headers: response.headers, events: [], json: JSON.parse(text) };
}

/** The events of an SSE body; blocks of comments alone (keep-alives) are skipped, as every SSE parser skips them. */
export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.split('\n').some((line) => line.length > 0 && !line.startsWith(':')))
    .map((block) => {
      // SSE lines end at CR or LF only: a regex's `$` would also end them at U+2028, which JSON leaves unescaped.
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length) ?? 'message';
      const data = lines.find((line) => line.startsWith('data: '))?.slice('data: '.length) ?? '{}';
      return { event, data: JSON.parse(data) };
    });
}

export function answerOf(events: SseEvent[]): string {
  return events
    .filter((event) => event.event === 'delta')
    .map((event) => String(event.data.text))
    .join('');
}

/** Every item in the table, to prove that a refused request changed nothing. */
export async function tableItems(dynamo: LocalDynamoDb): Promise<Record<string, unknown>[]> {
  const client = new DynamoDBClient({ region: EU_WEST, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
  try {
    const output = await client.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
    return output.Items ?? [];
  } finally {
    client.destroy();
  }
}

/** What the runtime wrote (Powertools JSON logs on stdout and stderr, EMF metric records on stdout). */
export class CapturedOutput {
  readonly lines: Record<string, unknown>[] = [];
  private readonly spies: jest.SpyInstance[];

  constructor() {
    const capture = (chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n')) {
        if (line.trim().startsWith('{')) this.lines.push(JSON.parse(line));
      }
      return true;
    };
    this.spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  }

  clear(): void {
    this.lines.length = 0;
  }

  restore(): void {
    for (const spy of this.spies) spy.mockRestore();
  }

  /** EMF records with the given dimension set, e.g. ['Region', 'Path']. */
  metrics(dimensions: string[]): Array<Record<string, unknown>> {
    return this.lines.filter((line) => {
      const meta = (line._aws as { CloudWatchMetrics?: Array<{ Dimensions: string[][] }> } | undefined)?.CloudWatchMetrics?.[0];
      return meta !== undefined && meta.Dimensions.some((set) => set.join() === dimensions.join());
    });
  }

  /** The sum of one metric over the records with the given dimension set. */
  sum(metric: string, dimensions: string[] = ['Region'], where: Record<string, string> = {}): number {
    return this.metrics(dimensions)
      .filter((record) => Object.entries(where).every(([key, value]) => record[key] === value))
      .reduce((total, record) => total + Number(record[metric] ?? 0), 0);
  }

  logs(): Array<Record<string, unknown>> {
    return this.lines.filter((line) => line._aws === undefined);
  }
}

export interface HistoryTurn {
  turn: number;
  role: string;
  text: string;
  path: string | null;
  model: string | null;
  region: string;
  time: string;
  incomplete?: boolean;
}

/** GET /v1/conversations/{id} as `principal` (the local server's default caller when omitted). */
export async function readConversation(
  baseUrl: string,
  conversationId: string,
  principal?: string,
): Promise<{ status: number; turns: HistoryTurn[]; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/v1/conversations/${encodeURIComponent(conversationId)}`, {
    headers: principal ? { 'x-local-principal': principal } : {},
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, turns: (body.turns as HistoryTurn[]) ?? [], body };
}

/** The text of each message the emulator's `index`-th call carried, as [role, text] pairs. */
export function sentMessages(call: { request: unknown }): Array<[string, string]> {
  const { messages } = call.request as { messages: Array<{ role: string; content: Array<{ text?: string }> }> };
  return messages.map((message) => [message.role, message.content.map((block) => block.text ?? '').join('')]);
}
