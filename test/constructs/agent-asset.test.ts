import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as os from 'node:os';
import { AgentCode, AgentInstructions, type AgentRuntime } from '../../lib';
import { agentEntry, environmentOf, runtimeIn, testApp } from './fixtures';

/** 150 KB of instructions: far beyond Lambda's 4 KB of environment. */
const LONG_INSTRUCTIONS = `# Support handbook\n\n${'Answer with the policy that applies, and name it. '.repeat(3000)}`;

/** An entry whose instructions come from a Markdown file beside it. */
function entryWithInstructions(text: string): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-instructions-'));
  fs.writeFileSync(path.join(directory, 'instructions.md'), text);
  const entry = path.join(directory, 'agent.ts');
  fs.writeFileSync(
    entry,
    "import { defineAgent } from 'cdk-multi-region-agent/agent';\nimport instructions from './instructions.md';\nexport default defineAgent({ instructions });\n",
  );
  return entry;
}

const filesOf = (runtime: AgentRuntime) => fs.readdirSync(runtime.codeDirectory).sort();
const fileOf = (runtime: AgentRuntime, name: string) => fs.readFileSync(path.join(runtime.codeDirectory, name), 'utf8');

describe('the code asset', () => {
  test("is a directory holding the runtime's handler, index.mjs, as the function's code (handler index.handler)", () => {
    // GIVEN / WHEN a stack that is bundled
    const runtime = runtimeIn(new App());

    // THEN
    const handler = fs.readFileSync(path.join(runtime.codeDirectory, 'index.mjs'), 'utf8');
    expect(handler).toMatch(/^import \{ createRequire \} from 'module'; const require = createRequire\(import\.meta\.url\);/);
    expect(handler).toMatch(/export\s*\{[^}]*handler/);
    Template.fromStack(Stack.of(runtime)).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs24.x' });
  });

  test('loads at init only what every runtime needs: the MCP, Lambda and Secrets Manager clients, outside providers and the JSON Schema validator are chunks it imports when configured', () => {
    // GIVEN / WHEN a bundled runtime
    const runtime = runtimeIn(new App());

    // THEN the handler file and the chunks it imports statically (what Lambda's init loads) hold none of them
    const read = (file: string) => fs.readFileSync(path.join(runtime.codeDirectory, file), 'utf8');
    const loaded = new Set<string>();
    const load = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      // Static imports only (`from"./chunks/x.mjs"`, `import"./chunks/x.mjs"`), not `import("./chunks/x.mjs")`.
      for (const [, imported] of read(file).matchAll(/(?:from|import)\s*["'](\.\/[^"']+)["']/g)) load(path.posix.join(path.posix.dirname(file), imported));
    };
    load('index.mjs');
    const atInit = [...loaded].map(read).join('\n');
    // Strings only each module's code holds: an MCP notification, the Smithy namespaces of the two AWS services, Anthropic's
    // API, @cfworker/json-schema's error for a schema it cannot use.
    const markers = [
      'notifications/tools/list_changed',
      '"com.amazonaws.secretsmanager"',
      '"com.amazonaws.lambda"',
      '"https://api.anthropic.com"',
      'Duplicate schema URI',
    ];
    for (const marker of markers) expect(atInit).not.toContain(marker);
    // AND they are in the asset, as chunks
    const chunks = fs.readdirSync(path.join(runtime.codeDirectory, 'chunks')).map((file) => read(`chunks/${file}`));
    for (const marker of markers) expect(chunks.some((chunk) => chunk.includes(marker))).toBe(true);
    // AND defineAgent's schema normalization is nowhere in the handler's files: an agent's bundle carries its own
    expect([atInit, ...chunks].some((code) => code.includes('without JSON Schema conversion'))).toBe(false);
    // AND the handler file stays under 400 KB, what init loads under 535 KB (1074 KB in one file before the split, 566 KB before these chunks)
    expect(Buffer.byteLength(read('index.mjs'))).toBeLessThan(400 * 1024);
    expect(Buffer.byteLength(atInit)).toBeLessThan(535 * 1024);
  });

  test('is left without the handler in a stack whose bundling is skipped, which is not deployed', () => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp());

    // THEN
    expect(fs.readdirSync(runtime.codeDirectory)).toEqual([]);
  });

  test("holds the agent's bundle beside the handler", () => {
    // GIVEN / WHEN
    const runtime = runtimeIn(new App(), { agent: AgentCode.fromEntry(agentEntry('support/agent.ts')) });

    // THEN
    expect(filesOf(runtime)).toEqual(['agent.mjs', 'chunks', 'index.mjs']);
  });

  test.each([
    ['AgentInstructions.fromText', () => ({ instructions: AgentInstructions.fromText('Answer in French.') })],
    ['settings.inference.systemPrompt (the older way)', () => ({ settings: { inference: { systemPrompt: 'Answer in French.' } } })],
  ])('holds instructions given by %s as instructions.md, not in AGENT_CONFIG', (_case, props) => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp(), props());

    // THEN
    expect(filesOf(runtime)).toEqual(['instructions.md']);
    expect(fileOf(runtime, 'instructions.md')).toBe('Answer in French.');
    const config = JSON.parse(environmentOf(runtime).AGENT_CONFIG);
    expect(JSON.stringify(config)).not.toContain('French');
    expect(runtime.runtimeConfig.inference?.systemPrompt).toBeUndefined();
  });

  test('holds instructions read by AgentInstructions.fromFile as they are in the file', () => {
    const runtime = runtimeIn(testApp(), { instructions: AgentInstructions.fromFile(agentEntry('support/instructions.md')) });

    expect(fileOf(runtime, 'instructions.md')).toBe(fs.readFileSync(agentEntry('support/instructions.md'), 'utf8'));
  });

  test('a blank settings.inference.systemPrompt is no instructions, as before', () => {
    const runtime = runtimeIn(testApp(), { settings: { inference: { systemPrompt: ' ' } } });

    expect(filesOf(runtime)).toEqual([]);
  });

  test('settings.inference keeps its other fields in AGENT_CONFIG when the system prompt moves to the asset', () => {
    const runtime = runtimeIn(testApp(), { settings: { inference: { systemPrompt: 'Be brief.', maxTokens: 2048, temperature: 0.2 } } });

    expect(JSON.parse(environmentOf(runtime).AGENT_CONFIG).inference).toEqual({ maxTokens: 2048, temperature: 0.2 });
  });
});

describe('instructions of 150 KB', () => {
  test.each([
    ["in the agent's code", () => ({ agent: AgentCode.fromEntry(entryWithInstructions(LONG_INSTRUCTIONS)) })],
    ['given to the construct', () => ({ instructions: AgentInstructions.fromText(LONG_INSTRUCTIONS) })],
    ['given as settings.inference.systemPrompt', () => ({ settings: { inference: { systemPrompt: LONG_INSTRUCTIONS } } })],
  ])('%s synthesize, and the environment stays small', (_case, props) => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp(), props());

    // THEN the instructions are in the asset, whole
    const asset = filesOf(runtime).includes('agent.mjs') ? fileOf(runtime, 'agent.mjs') : fileOf(runtime, 'instructions.md');
    expect(asset).toContain(LONG_INSTRUCTIONS);
    // AND the function's environment is the configuration alone, a small fraction of Lambda's 4 KB
    const environment = environmentOf(runtime);
    expect(Object.keys(environment)).toEqual(['AGENT_CONFIG']);
    expect(Buffer.byteLength(environment.AGENT_CONFIG)).toBeLessThan(2048);
  });
});

describe('instructions in two places', () => {
  test("throws if the agent's code defines instructions and the construct is given some too, naming both", () => {
    const build = () => runtimeIn(testApp(), { agent: AgentCode.fromEntry(agentEntry('support/agent.ts')), instructions: AgentInstructions.fromText('More.') });

    expect(build).toThrow(
      /Agent\/Runtime\/Function: instructions: the agent's code \(.*support\/agent\.ts\) defines \d+ bytes of instructions, and the construct was given 5 bytes more/,
    );
  });

  test("throws if the agent's code defines instructions and settings.inference.systemPrompt is set", () => {
    const build = () =>
      runtimeIn(testApp(), { agent: AgentCode.fromEntry(agentEntry('support/agent.ts')), settings: { inference: { systemPrompt: 'More.' } } });

    expect(build).toThrow(expect.objectContaining({ code: 'InstructionsGivenTwice' }));
  });

  test('throws if both instructions and settings.inference.systemPrompt are given', () => {
    const build = () => runtimeIn(testApp(), { instructions: AgentInstructions.fromText('One.'), settings: { inference: { systemPrompt: 'Two.' } } });

    expect(build).toThrow(/Agent\/Runtime: instructions and settings.inference.systemPrompt: give the instructions once/);
  });

  test('an agent whose code has no instructions may be given them by the construct', () => {
    const runtime = runtimeIn(testApp(), {
      agent: AgentCode.fromEntry(agentEntry('no-instructions.ts')),
      instructions: AgentInstructions.fromText('From the construct.'),
    });

    expect(filesOf(runtime)).toEqual(['agent.mjs', 'instructions.md']);
  });
});

describe('AgentInstructions', () => {
  test.each([
    ['empty text', () => AgentInstructions.fromText('  \n'), /AgentInstructions.fromText: the instructions are empty/],
    [
      'a file that does not exist',
      () => AgentInstructions.fromFile('/nowhere/instructions.md'),
      /AgentInstructions.fromFile: \/nowhere\/instructions.md is not a file/,
    ],
  ])('throws for %s', (_case, build, message) => {
    expect(build).toThrow(message);
  });
});
