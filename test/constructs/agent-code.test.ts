import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentCode, MultiRegionAgentError } from '../../lib';
import { agentApp, agentEntry, runtimeIn, testApp } from './fixtures';

/** An entry of its own in a fresh directory, so that no other test of the process has bundled it. */
function freshEntry(source: string): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-entry-'));
  const entry = path.join(directory, 'agent.ts');
  fs.writeFileSync(entry, source);
  return entry;
}

describe('AgentCode.fromEntry', () => {
  test('bundles the entry into the code asset as agent.mjs, minified ESM with the instructions it imports from Markdown', () => {
    // GIVEN
    const agent = AgentCode.fromEntry(agentEntry('support/agent.ts'));

    // WHEN
    const runtime = runtimeIn(testApp(), { agent });

    // THEN
    const bundle = fs.readFileSync(path.join(runtime.codeDirectory, 'agent.mjs'), 'utf8');
    expect(bundle).toMatch(/^import \{ createRequire \} from 'module';/);
    expect(bundle).toMatch(/export\s*\{[^}]*as default/);
    expect(bundle).toContain("You answer questions about our stores' opening hours.");
    // Minified: no comment survives, and local names are shortened.
    expect(bundle).not.toContain('An agent as a user writes it');
    expect(bundle).not.toMatch(/function defineAgent\(/);
  });

  test("reads the definition's manifest at synthesis: its tools with their JSON Schemas, maxSteps and the instructions' size", () => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp(), { agent: AgentCode.fromEntry(agentEntry('support/agent.ts')) });

    // THEN
    expect(runtime.agentManifest).toMatchObject({
      kind: 'cdk-multi-region-agent/agent@1',
      maxSteps: 4,
      instructionsBytes: fs.statSync(agentEntry('support/instructions.md')).size,
      tools: [
        {
          name: 'opening_hours',
          description: 'The opening hours of a store',
          inputSchema: { type: 'object', properties: { store: { type: 'string' } }, required: ['store'] },
          timeoutMs: 10_000,
        },
      ],
    });
  });

  test('accepts a definition exported as `agent`', () => {
    const runtime = runtimeIn(testApp(), { agent: AgentCode.fromEntry(agentEntry('named-export.ts')) });

    expect(runtime.agentManifest).toMatchObject({ maxSteps: 2, tools: [] });
  });

  test('is validated in a stack whose bundling is skipped, too', () => {
    // GIVEN an app that skips bundling, as construct tests and the local playground do
    const app = testApp();

    // WHEN / THEN
    expect(() => runtimeIn(app, { agent: AgentCode.fromEntry(agentEntry('bad-tool-name.ts')) })).toThrow(MultiRegionAgentError);
  });

  test('every region shares one agent: the entry is bundled and imported once per process', () => {
    // GIVEN an entry, no other test's, that counts the times it is imported
    const imports = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agent-imports-')), 'count');
    const entry = freshEntry(
      [
        "import { appendFileSync } from 'node:fs';",
        "import { defineAgent } from 'cdk-multi-region-agent/agent';",
        `appendFileSync(${JSON.stringify(imports)}, 'x');`,
        "export default defineAgent({ instructions: 'Shared.' });",
      ].join('\n'),
    );

    // WHEN four regions run it
    const { agent } = agentApp({ agent: AgentCode.fromEntry(entry) });

    // THEN
    expect(agent.runtimes).toHaveLength(4);
    expect(fs.readFileSync(imports, 'utf8')).toBe('x');
    expect(new Set(agent.runtimes.map((runtime) => runtime.codeDirectory)).size).toBe(1);
  });

  test('an entry whose sources changed within the process is bundled again', () => {
    // GIVEN an entry bundled once
    const entry = freshEntry(`import { defineAgent } from 'cdk-multi-region-agent/agent';\nexport default defineAgent({ maxSteps: 3 });\n`);
    expect(runtimeIn(testApp(), { agent: AgentCode.fromEntry(entry) }).agentManifest?.maxSteps).toBe(3);

    // WHEN its file changes
    fs.writeFileSync(entry, `import { defineAgent } from 'cdk-multi-region-agent/agent';\nexport default defineAgent({ maxSteps: 5 });\n`);

    // THEN
    expect(runtimeIn(testApp(), { agent: AgentCode.fromEntry(entry) }).agentManifest?.maxSteps).toBe(5);
  });

  test.each([
    [
      'an entry that does not export an agent, saying how to',
      'no-agent.ts',
      'AgentNotExported',
      /Agent\/Runtime\/Function: agent: .*no-agent\.ts: does not export an agent \(its exports: instructions\); end it with `export default defineAgent\(\{ instructions, tools \}\)`/,
    ],
    [
      'a tool name Bedrock refuses, naming the tool',
      'bad-tool-name.ts',
      'InvalidAgentDefinition',
      /Agent\/Runtime\/Function: agent: .*bad-tool-name\.ts: tool 'look up order!': Bedrock accepts tool names of 1-64 characters/,
    ],
    [
      'a tool whose input schema is not an object, naming the tool and the field',
      'non-object-schema.ts',
      'InvalidAgentDefinition',
      /agent: .*non-object-schema\.ts: tool 'echo': inputSchema: the input schema must describe an object \(type: "object"\), got type: "string"/,
    ],
    [
      'an entry whose top level throws, saying that it runs at synthesis',
      'throws-at-load.ts',
      'AgentEntryFailed',
      /agent: .*throws-at-load\.ts: importing it threw Error: ORDERS_DATABASE_URL is not set \(the entry is imported at synthesis/,
    ],
    [
      'an entry that does not bundle, naming the file and the import',
      'missing-import.ts',
      'AgentBundlingFailed',
      /agent: bundling .*missing-import\.ts failed: missing-import\.ts:\d+:\d+: Could not resolve "\.\/catalogue"/,
    ],
    [
      'a definition of another version of the contract',
      'other-version.ts',
      'AgentVersionMismatch',
      /exports a definition of cdk-multi-region-agent\/agent@0, and this version of the constructs reads cdk-multi-region-agent\/agent@1/,
    ],
  ])('throws for %s', (_case, file, code, message) => {
    const build = () => runtimeIn(testApp(), { agent: AgentCode.fromEntry(agentEntry(file)) });

    expect(build).toThrow(message);
    expect(build).toThrow(expect.objectContaining({ name: 'MultiRegionAgentError', code }));
  });

  test('throws if the entry is not a file', () => {
    expect(() => AgentCode.fromEntry(agentEntry('nowhere.ts'))).toThrow(
      /AgentCode.fromEntry: .*nowhere\.ts is not a file; give the path of your agent's entry/,
    );
  });
});
