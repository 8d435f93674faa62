/**
 * An MCP server's tools through the whole runtime: HTTP in, the Bedrock
 * emulator (over the real Bedrock Runtime client) planning the tool call
 * from the tool list the runtime read from the server, the official MCP
 * SDK's server running it, the answer streamed and stored, the call counted
 * under the tool's name with its server.
 */
import { z } from 'zod';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import { answerOf, postMessage, readConversation, startHarness, tableItems, type Harness } from './harness';
import { McpTestServer } from './mcp-test-server';

let harness: Harness | undefined;
let server: McpTestServer | undefined;

afterEach(async () => {
  await harness?.close();
  await server?.close();
  harness = undefined;
  server = undefined;
});

test("the model calls an MCP server's tool beside a code tool: the answer quotes its result, the exchange is stored, the call is counted", async () => {
  // GIVEN an agent with a code tool, and an MCP server whose tools are prefixed
  server = await McpTestServer.start();
  const agent = defineAgent({
    tools: { get_time: tool({ description: 'The time', inputSchema: z.object({}), execute: () => ({ at: '2026-12-06T03:00:00Z' }) }) },
  });
  const mcpServers = [{ name: 'orders', url: server.url, region: 'eu-west-1', prefix: 'shop_', exclude: ['wait_forever'], timeoutMs: 5000 }];
  harness = await startHarness(undefined, { overrides: { agent, mcpServers } });

  // WHEN a question names the server's tool (the emulator calls the tools a question names)
  const result = await postMessage(harness.server.url, 'eu.c-mcp', { text: 'Where is my order? shop_get_order orderId=NW-10042' });

  // THEN the model was offered both kinds of tools, and the MCP tool ran once with the model's input and the conversation's ids
  const offered = (harness.emulator.calls()[0].request as { toolConfig: { tools: Array<{ toolSpec: { name: string } }> } }).toolConfig.tools;
  expect(offered.map((spec) => spec.toolSpec.name).sort()).toEqual(['get_time', 'shop_get_order', 'shop_out_of_stock', 'shop_refund_order']);
  expect(server.calls).toEqual([expect.objectContaining({ name: 'get_order', arguments: { orderId: 'NW-10042' } })]);
  expect(server.calls[0].meta).toMatchObject({ 'cdk-multi-region-agent/conversationId': 'eu.c-mcp' });
  // AND the answer quotes the server's result, and the exchange is stored with it
  expect(answerOf(result.events)).toContain('1234.56');
  const conversation = await readConversation(harness.server.url, 'eu.c-mcp');
  expect(conversation.turns.at(-1)?.text).toContain('1234.56');
  expect(JSON.stringify(await tableItems(harness.dynamo))).toContain('shop_get_order');
  // AND the call is counted under the tool's name, the record naming its server
  const records = harness.output.metrics(['Region', 'Tool']).filter((record) => record.Tool === 'shop_get_order');
  expect(records).toEqual([expect.objectContaining({ ToolCalls: 1, ToolErrors: 0, McpServer: 'orders' })]);
});

test('a server that is down at the first message leaves its tools out: the agent answers with the others', async () => {
  server = await McpTestServer.start();
  const url = server.url;
  await server.close();
  server = undefined;
  harness = await startHarness(undefined, { overrides: { mcpServers: [{ name: 'orders', url, region: 'eu-west-1', timeoutMs: 2000 }] } });

  const result = await postMessage(harness.server.url, 'eu.c-mcp-down', { text: 'Hello there' });

  expect(result.status).toBe(200);
  expect(answerOf(result.events)).not.toBe('');
  expect(harness.output.logs()).toContainEqual(expect.objectContaining({ message: 'MCP server problem', server: 'orders' }));
});
