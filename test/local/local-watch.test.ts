/**
 * `agentctl local --watch` over a stranger's app: a consumer-shaped project
 * in a temporary directory (cdk.json, app.ts, an agent entry with a zod
 * tool), synthesized through its own cdk.json as the command does. A save of
 * the agent's entry swaps the runtimes in place, conversations stay, a save
 * that does not synthesize keeps the old runtimes serving; a swap also
 * refreshes the dashboard preview and the probes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readLocalDeployment } from '../../local/assembly/read-assembly';
import { startLocal, type LocalSession, type SwapResult } from '../../local/run-local';
import { AgentClient } from '../../local/testing';

const REPO = path.join(__dirname, '..', '..');
/** Synthesis through a child process, several times per test, on a machine that may be busy. */
const WATCH_TEST_TIMEOUT_MS = 240_000;

/** The agent's entry file, greeting with `greeting`. */
function agentEntry(greeting: string): string {
  return `import { z } from 'zod';
import { defineAgent, tool } from 'cdk-multi-region-agent/agent';

export default defineAgent({
  instructions: 'You greet the customers of a bakery.',
  tools: {
    greet: tool({
      description: 'Greets a customer by name',
      inputSchema: z.object({ name: z.string() }),
      execute: ({ name }) => ({ greeting: ${JSON.stringify(greeting)} + ', ' + name }),
    }),
  },
});
`;
}

/** The app: one region, its agent's entry under agent/, a chain and metrics namespace that a save changes. */
function appSource(options: { fallback: string; namespace: string }): string {
  return `import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { AgentCode, BedrockModel, Jurisdiction, ModelChain, MultiRegionAgent } from ${JSON.stringify(path.join(REPO, 'lib'))};

const app = new App();
new MultiRegionAgent(app, 'Bakery', {
  account: '210987654321',
  agentName: 'bakery',
  hostedZone: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'bakery.example' },
  recordName: 'help.bakery.example',
  jurisdictions: [Jurisdiction.eu(['eu-west-1'])],
  chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, ${options.fallback}),
  metricsNamespace: ${JSON.stringify(options.namespace)},
  agent: AgentCode.fromEntry(path.join(__dirname, 'agent', 'agent.ts')),
});
app.synth();
`;
}

/** A consumer's project: cdk.json, its app and its agent, resolving packages from this repository's node_modules. */
function consumerProject(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'local-watch-app-'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(directory, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(directory, 'cdk.json'), JSON.stringify({ app: 'node --import tsx app.ts' }));
  fs.writeFileSync(path.join(directory, 'app.ts'), appSource({ fallback: 'BedrockModel.AMAZON_NOVA_PRO', namespace: 'Bakery/Before' }));
  fs.mkdirSync(path.join(directory, 'agent'));
  fs.writeFileSync(path.join(directory, 'agent', 'agent.ts'), agentEntry('Hello'));
  return directory;
}

/** The swaps reported, in order, awaited one at a time. */
function swapEvents(): { onSwap: (result: SwapResult) => void; next: () => Promise<SwapResult> } {
  const reported: SwapResult[] = [];
  const waiting: Array<(result: SwapResult) => void> = [];
  return {
    onSwap: (result) => {
      const waiter = waiting.shift();
      if (waiter) waiter(result);
      else reported.push(result);
    },
    next: () => {
      const result = reported.shift();
      return result ? Promise.resolve(result) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const greetingOf = (text: string) => /"greeting":"([^"]*)"/.exec(text)?.[1];

describe('a consumer app under --watch', () => {
  let project: string;
  let session: LocalSession | undefined;
  const swaps = swapEvents();

  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    project = consumerProject();
    session = await startLocal({ appDirectory: project, watch: true, port: 0, location: 'eu', firstTokenDelayMs: 0, tokenDelayMs: 0, onSwap: swaps.onSwap });
  }, WATCH_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await session?.close();
    fs.rmSync(project, { recursive: true, force: true });
  });

  test(
    "a save of the agent's entry and the app swaps in the new tool, dashboard and probes, and the earlier conversation stays readable",
    async () => {
      const { playground } = session!;
      const client = new AgentClient(playground.url, { location: 'eu' });
      const before = await client.send('greet name=Ada');
      expect(greetingOf(before.text)).toBe('Hello, Ada');
      expect(JSON.stringify(playground.views.synthesized().dashboards)).toContain('Bakery/Before');
      const assemblyBefore = session!.deployment.agents['eu-west-1'].codeDirectory;

      // WHEN the agent's tool, the chain's fallback and the metrics namespace change (one save of two files)
      fs.writeFileSync(path.join(project, 'agent', 'agent.ts'), agentEntry('Bonjour'));
      fs.writeFileSync(path.join(project, 'app.ts'), appSource({ fallback: "BedrockModel.of('amazon.nova-lite-v1:0')", namespace: 'Bakery/After' }));
      const swapped = await swaps.next();

      // THEN the new tool answers, in a new conversation and in the earlier one, whose turns are all still stored
      expect(swapped.error).toBeUndefined();
      expect(swapped.synthMs).toBeLessThanOrEqual(swapped.ms);
      expect(session!.deployment.agents['eu-west-1'].codeDirectory).not.toBe(assemblyBefore);
      expect(greetingOf((await client.send('greet name=Grace')).text)).toBe('Bonjour, Grace');
      const continued = await client.send('greet name=Ada', { conversationId: before.conversationId });
      expect(greetingOf(continued.text)).toBe('Bonjour, Ada');
      const history = await client.history(before.conversationId);
      expect(history.map((turn) => turn.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(greetingOf(history[1].text)).toBe('Hello, Ada');
      // AND the dashboard preview draws the new synthesis, and the probes call the new fallback model
      expect(playground.views.synthesized()).toEqual(readLocalDeployment(path.join(project, 'cdk.out')).monitoring());
      expect(JSON.stringify(playground.views.synthesized().dashboards)).toContain('Bakery/After');
      await playground.probes();
      expect(playground.emulator.calls().some((call) => call.modelId.includes('nova-lite'))).toBe(true);
    },
    WATCH_TEST_TIMEOUT_MS,
  );

  test(
    'a save that fails to synthesize is reported with the error, and the runtime swapped in last keeps answering',
    async () => {
      const client = new AgentClient(session!.playground.url, { location: 'eu' });
      const serving = session!.deployment.agents['eu-west-1'].codeDirectory;
      const greetingBefore = greetingOf((await client.send('greet name=Linus')).text);

      // WHEN a save breaks the entry
      fs.writeFileSync(path.join(project, 'agent', 'agent.ts'), agentEntry('Hallo').replace('inputSchema:', 'inputSchema: ('));
      const failed = await swaps.next();

      // THEN the failure names the file, and the same runtime answers
      expect(failed.error).toMatchObject({ code: 'SynthFailed', message: expect.stringContaining('agent.ts') });
      expect(greetingOf((await client.send('greet name=Linus')).text)).toBe(greetingBefore);
      expect(session!.deployment.agents['eu-west-1'].codeDirectory).toBe(serving);
    },
    WATCH_TEST_TIMEOUT_MS,
  );
});
