/**
 * The API a chat product needs, per owner: end users behind one backend
 * role, listing, deletion, export and erasure. Two regions of one
 * jurisdiction (two runtimes) share the embedded DynamoDB, as every region
 * shares the home region's table; every request goes through the real SDK
 * clients.
 */
import { tool } from 'ai';
import { z } from 'zod';
import { defineAgent, type ToolContext } from '../../lambda/agent/agent/definition';
import type { LambdaToolEvent } from '../../lambda/agent/agent/asset-layout';
import { validateRuntimeConfig, type RuntimeConfigInput } from '../../lambda/agent/config';
import { AgentServer } from '../../local/agent-server';
import { LambdaEmulator } from '../../local/lambda-emulator';
import type { BedrockEmulator } from '../../local/bedrock-emulator';
import type { LocalDynamoDb } from '../../local/dynamodb';
import { EU_CENTRAL, euConfig, parseSse, startHarness, tableItems, type Harness } from './harness';

/** The backend's role as a grant names it (with its path), and a session of it as API Gateway reports the caller. */
const BACKEND_ROLE = 'arn:aws:iam::111122223333:role/service/chat-backend';
const BACKEND = 'arn:aws:sts::111122223333:assumed-role/chat-backend/task-7f3a';
/** Another application's role, with a plain grantInvoke only. */
const OTHER_APP = 'arn:aws:sts::111122223333:assumed-role/reporting/task-1';

const toolCalls: Array<Pick<ToolContext, 'caller' | 'endUser' | 'conversationId'>> = [];
const lambdaEvents: LambdaToolEvent[] = [];

const agent = defineAgent({
  instructions: 'You keep notes.',
  tools: {
    remember: tool({
      description: 'Keeps a note',
      inputSchema: z.object({ note: z.string() }),
      execute: async ({ note }, context) => {
        const { caller, endUser, conversationId } = context as unknown as ToolContext;
        toolCalls.push({ caller, endUser, conversationId });
        return { kept: note, at: new Date('2026-12-06T10:00:00Z') };
      },
    }),
  },
});

let harness: Harness;
let lambda: LambdaEmulator;
let frankfurt: AgentServer;

function config(emulator: BedrockEmulator, dynamo: LocalDynamoDb): RuntimeConfigInput {
  const base = euConfig(emulator, dynamo);
  return { ...base, onBehalfCallers: [BACKEND_ROLE], endpoints: { ...base.endpoints, lambda: lambda.endpoint } };
}

beforeAll(async () => {
  lambda = await LambdaEmulator.start();
  const functionArn = lambda.register('arn:aws:lambda:eu-west-1:123456789012:function:audit', async (event: unknown) => {
    lambdaEvents.push(event as LambdaToolEvent);
    return { audited: true };
  });
  const lambdaTools = {
    specs: [
      { name: 'audit', description: 'Audits', inputSchema: { type: 'object', properties: { what: { type: 'string' } }, required: ['what'] }, timeoutMs: 5000 },
    ],
    functionArns: { audit: functionArn },
  };
  harness = await startHarness(config, { overrides: { agent, lambdaTools } });
  frankfurt = await AgentServer.start({
    config: validateRuntimeConfig({ ...config(harness.emulator, harness.dynamo), region: EU_CENTRAL }),
    overrides: { agent, lambdaTools },
  });
});

afterAll(async () => {
  await frankfurt.close();
  await harness.close();
  await lambda.close();
});

interface As {
  principal?: string;
  endUser?: string;
  /** The runtime that serves the request: eu-west-1 unless told. */
  server?: AgentServer;
}

/** A conversation as the listing (and, with turns as a list, the export) shows it. */
interface Listed {
  conversationId: string;
  title: string;
  turns: number;
  lastActivity: string;
  createdAt: string;
}

interface Turn {
  steps?: Array<{ toolCalls: unknown[] }>;
}

/** The JSON answers these tests read. */
interface Body {
  conversations: Listed[];
  nextCursor?: string;
  turns: Turn[];
  deleted: number;
  error: { code: string };
}

/** DynamoDB items in attribute-value form. */
type Item = Record<string, { S?: string; N?: string } | undefined>;

async function call(method: string, path: string, as: As = {}, body?: unknown): Promise<{ status: number; body: Body; text: string }> {
  const response = await fetch(`${(as.server ?? harness.server).url}${path}`, {
    method,
    headers: {
      'x-local-principal': as.principal ?? BACKEND,
      ...(as.endUser !== undefined ? { 'x-agent-end-user': as.endUser } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json', accept: 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined };
}

const say = (conversationId: string, text: string, as: As = {}) => call('POST', `/v1/conversations/${conversationId}/messages`, as, { text });
const read = (conversationId: string, as: As = {}) => call('GET', `/v1/conversations/${conversationId}`, as);
const list = (as: As = {}, query = '') => call('GET', `/v1/conversations${query}`, as);

/** Every conversation id of a listing, following its cursors. */
async function listAll(as: As, limit: number): Promise<{ pages: number[]; conversations: Listed[] }> {
  const pages: number[] = [];
  const conversations: Listed[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(as, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    pages.push(page.body.conversations.length);
    conversations.push(...page.body.conversations);
    cursor = page.body.nextCursor;
  } while (cursor);
  return { pages, conversations };
}

/** The table's items of one conversation. */
async function itemsOf(conversationId: string): Promise<Item[]> {
  return ((await tableItems(harness.dynamo)) as Item[]).filter((item) => item.pk?.S === `conversation#${conversationId}`);
}

/** Waits until the items of a deleted conversation are gone (the removal runs after the 204), asking the table again each time. */
async function untilOnlyTombstone(conversationId: string): Promise<Item[]> {
  for (let round = 0; round < 200; round += 1) {
    const items = await itemsOf(conversationId);
    if (items.every((item) => item.sk?.S === '~conversation')) return items;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return itemsOf(conversationId);
}

test("two end users behind one backend role never reach each other's conversations; the backend alone reaches neither", async () => {
  // GIVEN alice's conversation through the backend
  expect((await say('eu.iso-alice', 'my medical question', { endUser: 'alice@example.com' })).status).toBe(200);

  // WHEN bob, the backend itself, and alice ask for it
  const byBob = await read('eu.iso-alice', { endUser: 'bob' });
  const byBackend = await read('eu.iso-alice');
  const byAlice = await read('eu.iso-alice', { endUser: 'alice@example.com', server: frankfurt });
  const bobWrites = await say('eu.iso-alice', 'and mine', { endUser: 'bob' });

  // THEN only alice reads it (from either region), stored under the pair of the backend's role and her id
  expect([byBob.status, byBackend.status, bobWrites.status]).toEqual([404, 404, 404]);
  expect(byAlice.status).toBe(200);
  expect(byAlice.body.turns).toHaveLength(2);
  const [record] = (await itemsOf('eu.iso-alice')).filter((item) => item.sk?.S === '~conversation');
  expect(record.owner?.S).toBe('arn:aws:sts::111122223333:assumed-role/chat-backend#user:alice@example.com');
  expect((await list({ endUser: 'bob' })).body.conversations.map((c) => c.conversationId)).not.toContain('eu.iso-alice');
});

test('a caller without the on-behalf grant naming an end user is refused with 403 and nothing is stored or called', async () => {
  // GIVEN
  const before = await tableItems(harness.dynamo);
  harness.emulator.clearCalls();

  // WHEN another application, granted plain invoke only, names an end user
  const refused = await say('eu.iso-other', 'hello', { principal: OTHER_APP, endUser: 'alice@example.com' });
  const listing = await list({ principal: OTHER_APP, endUser: 'alice@example.com' });

  // THEN
  expect(refused.status).toBe(403);
  expect(refused.body.error.code).toBe('end_user_not_allowed');
  expect(listing.status).toBe(403);
  expect(harness.emulator.calls()).toEqual([]);
  expect(await tableItems(harness.dynamo)).toEqual(before);
});

test('tools, Lambda tools and logs see the end user, and the backend as the caller; logs carry no message text', async () => {
  // GIVEN
  toolCalls.length = 0;
  lambdaEvents.length = 0;
  harness.output.clear();

  // WHEN carol's message makes the model call both tools
  const answer = await say('eu.tools-carol', 'remember note=milk then audit what=fridge', { endUser: 'carol' });

  // THEN
  expect(answer.status).toBe(200);
  expect(toolCalls).toEqual([{ caller: 'arn:aws:sts::111122223333:assumed-role/chat-backend', endUser: 'carol', conversationId: 'eu.tools-carol' }]);
  expect(lambdaEvents).toEqual([expect.objectContaining({ caller: 'arn:aws:sts::111122223333:assumed-role/chat-backend', endUser: 'carol' })]);
  const completed = harness.output.logs().find((line) => line.message === 'message completed' && line.conversationId === 'eu.tools-carol');
  expect(completed).toMatchObject({ endUser: 'carol', caller: BACKEND });
  expect(JSON.stringify(harness.output.logs())).not.toContain('note=milk');
});

test('the listing pages through every conversation once, latest activity first, with title, turns and times', async () => {
  // GIVEN dave's five conversations, then a second message in the oldest
  const ids = ['eu.page-1', 'eu.page-2', 'eu.page-3', 'eu.page-4', 'eu.page-5'];
  for (const [index, id] of ids.entries()) await say(id, `  Question   number ${index + 1} about the weather in Lisbon next week please`, { endUser: 'dave' });
  await say('eu.page-1', 'a follow-up', { endUser: 'dave' });

  // WHEN the listing is read two at a time, from the other region
  const { pages, conversations } = await listAll({ endUser: 'dave', server: frankfurt }, 2);

  // THEN three pages, each conversation once, the one just continued first
  expect(pages).toEqual([2, 2, 1]);
  expect(conversations.map((c) => c.conversationId).sort()).toEqual([...ids].sort());
  expect(conversations[0]).toEqual({
    conversationId: 'eu.page-1',
    title: 'Question number 1 about the weather in Lisbon',
    turns: 2,
    lastActivity: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  });
  const activity = conversations.map((c) => c.lastActivity);
  expect(activity).toEqual([...activity].sort().reverse());
  expect(conversations[1].turns).toBe(1);
});

test("a cursor altered to name another owner's conversation lists only the caller's own", async () => {
  // GIVEN erin has one conversation, frank two
  await say('eu.cur-erin', 'erin here', { endUser: 'erin' });
  await say('eu.cur-frank-1', 'frank here', { endUser: 'frank' });
  await say('eu.cur-frank-2', 'frank again', { endUser: 'frank' });
  const franks = await list({ endUser: 'frank' }, '?limit=1');

  // WHEN erin uses frank's cursor
  const erins = await list({ endUser: 'erin' }, `?limit=5&cursor=${franks.body.nextCursor}`);

  // THEN she sees none of frank's
  expect(franks.body.nextCursor).toEqual(expect.any(String));
  expect(erins.status).toBe(200);
  expect(erins.body.conversations.map((c) => c.conversationId)).not.toContain('eu.cur-frank-1');
  expect(erins.body.conversations.map((c) => c.conversationId)).not.toContain('eu.cur-frank-2');
});

test('a deletion is honoured at once by the other region: reads and writes answer 404, the model is not called, the items go', async () => {
  // GIVEN grace's conversation of two exchanges, written through eu-west-1
  await say('eu.del-grace', 'first', { endUser: 'grace' });
  await say('eu.del-grace', 'second', { endUser: 'grace' });

  // WHEN she deletes it through eu-central-1
  const deleted = await call('DELETE', '/v1/conversations/eu.del-grace', { endUser: 'grace', server: frankfurt });

  // THEN eu-west-1 reads and writes nothing of it, and its items go but the tombstone, which keeps no text
  expect(deleted.status).toBe(204);
  expect(deleted.text).toBe('');
  harness.emulator.clearCalls();
  expect((await read('eu.del-grace', { endUser: 'grace' })).status).toBe(404);
  expect((await say('eu.del-grace', 'third', { endUser: 'grace' })).status).toBe(404);
  expect(harness.emulator.calls()).toEqual([]);
  expect((await list({ endUser: 'grace' })).body.conversations).toEqual([]);
  expect((await call('DELETE', '/v1/conversations/eu.del-grace', { endUser: 'grace' })).status).toBe(404);
  const [tombstone, ...rest] = await untilOnlyTombstone('eu.del-grace');
  expect(rest).toEqual([]);
  expect(tombstone.deletedAt?.S).toEqual(expect.any(String));
  expect(tombstone.title).toBeUndefined();
});

test("deleting someone else's conversation answers 404 and deletes nothing", async () => {
  // GIVEN
  await say('eu.del-heidi', 'heidi here', { endUser: 'heidi' });
  const before = await itemsOf('eu.del-heidi');

  // WHEN ivan, the backend itself, and another application try to delete it
  const statuses = [
    (await call('DELETE', '/v1/conversations/eu.del-heidi', { endUser: 'ivan' })).status,
    (await call('DELETE', '/v1/conversations/eu.del-heidi')).status,
    (await call('DELETE', '/v1/conversations/eu.del-heidi', { principal: OTHER_APP })).status,
  ];

  // THEN
  expect(statuses).toEqual([404, 404, 404]);
  expect(await itemsOf('eu.del-heidi')).toEqual(before);
  expect((await read('eu.del-heidi', { endUser: 'heidi' })).body.turns).toHaveLength(2);
});

test('a message in flight when its conversation is deleted does not bring it back', async () => {
  // GIVEN judy's message whose answer has started (its exchange is claimed) and is still streaming
  harness.emulator.setLatency({ firstTokenDelayMs: 0, tokenDelayMs: 30 });
  const response = await fetch(`${harness.server.url}/v1/conversations/eu.del-judy/messages`, {
    method: 'POST',
    headers: { 'x-local-principal': BACKEND, 'x-agent-end-user': 'judy', 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'a long question that takes a while to answer' }),
  });
  const reader = response.body!.getReader();
  let received = '';
  while (!received.includes('event: start')) received += new TextDecoder().decode((await reader.read()).value);

  // WHEN the conversation is deleted from the other region while the answer streams, and the answer ends
  const deleted = await call('DELETE', '/v1/conversations/eu.del-judy', { endUser: 'judy', server: frankfurt });
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += new TextDecoder().decode(chunk.value);
  harness.emulator.setLatency({ firstTokenDelayMs: 0, tokenDelayMs: 0 });

  // THEN the answer ended, but the conversation stays deleted everywhere
  expect(deleted.status).toBe(204);
  expect(parseSse(received).map((event) => event.event)).toContain('done');
  expect((await read('eu.del-judy', { endUser: 'judy', server: frankfurt })).status).toBe(404);
  expect((await say('eu.del-judy', 'are you there?', { endUser: 'judy' })).status).toBe(404);
  expect((await list({ endUser: 'judy' })).body.conversations).toEqual([]);
  // AND the erasure sweeps whatever the answer wrote after the tombstone
  expect((await call('DELETE', '/v1/conversations', { endUser: 'judy' })).body).toEqual({ deleted: 0 });
  expect((await itemsOf('eu.del-judy')).map((item) => item.sk?.S)).toEqual(['~conversation']);
});

test('the export holds every live conversation of the owner with every turn and its steps, as a conversation read shows them', async () => {
  // GIVEN kim's three conversations, one with tool steps, one deleted; and another end user's
  await say('eu.exp-1', 'plain question', { endUser: 'kim' });
  await say('eu.exp-1', 'another plain one', { endUser: 'kim' });
  // A tool's Date is stored (and given to the model) as its JSON: the answer must be stored, not degraded.
  expect((await say('eu.exp-2', 'remember note=eggs', { endUser: 'kim' })).body).toMatchObject({ stored: true, state: 'ok' });
  await say('eu.exp-3', 'to be deleted', { endUser: 'kim' });
  await call('DELETE', '/v1/conversations/eu.exp-3', { endUser: 'kim' });
  await say('eu.exp-other', 'not kim', { endUser: 'liam' });

  // WHEN kim exports from the other region
  const exported = await call('GET', '/v1/export', { endUser: 'kim', server: frankfurt });

  // THEN
  expect(exported.status).toBe(200);
  expect(exported.body).toMatchObject({
    owner: 'arn:aws:sts::111122223333:assumed-role/chat-backend#user:kim',
    endUser: 'kim',
    exportedAt: expect.any(String),
  });
  const byId = Object.fromEntries(
    (exported.body.conversations as unknown as Array<{ conversationId: string; createdAt: string; turns: Turn[] }>).map((c) => [c.conversationId, c]),
  );
  expect(Object.keys(byId).sort()).toEqual(['eu.exp-1', 'eu.exp-2']);
  for (const id of ['eu.exp-1', 'eu.exp-2']) {
    const read1 = await read(id, { endUser: 'kim' });
    expect(byId[id].turns).toEqual(read1.body.turns);
    expect(byId[id].createdAt).toEqual(expect.any(String));
  }
  expect(byId['eu.exp-1'].turns).toHaveLength(4);
  const steps = byId['eu.exp-2'].turns[1].steps;
  expect(steps?.[0].toolCalls[0]).toMatchObject({ name: 'remember', input: { note: 'eggs' }, result: { kept: 'eggs', at: '2026-12-06T10:00:00.000Z' } });
});

test("erasing all of an owner's conversations deletes them in every region at once and leaves other owners' alone", async () => {
  // GIVEN mia's three conversations and noah's one
  for (const id of ['eu.era-1', 'eu.era-2', 'eu.era-3']) await say(id, `mia's ${id}`, { endUser: 'mia' });
  await say('eu.era-noah', "noah's", { endUser: 'noah' });

  // WHEN mia erases all of hers through eu-central-1
  const erased = await call('DELETE', '/v1/conversations', { endUser: 'mia', server: frankfurt });

  // THEN
  expect(erased.status).toBe(200);
  expect(erased.body).toEqual({ deleted: 3 });
  for (const id of ['eu.era-1', 'eu.era-2', 'eu.era-3']) {
    expect((await read(id, { endUser: 'mia' })).status).toBe(404);
    expect((await itemsOf(id)).map((item) => [item.sk?.S, item.title, item.deletedAt === undefined])).toEqual([['~conversation', undefined, false]]);
  }
  expect((await list({ endUser: 'mia' })).body.conversations).toEqual([]);
  expect((await call('GET', '/v1/export', { endUser: 'mia' })).body.conversations).toEqual([]);
  expect((await read('eu.era-noah', { endUser: 'noah' })).body.turns).toHaveLength(2);
  // AND a second erasure finds nothing more to delete
  expect((await call('DELETE', '/v1/conversations', { endUser: 'mia' })).body).toEqual({ deleted: 0 });
});
