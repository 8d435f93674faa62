/**
 * The runtime bundled in one file, as the local playground's bundle
 * (dist/local/run-local.js) holds it: esbuild cannot keep a dynamic import
 * lazy in one file without initializing zod out of order, so such bundles
 * take lambda/agent/optional-modules.eager.ts (`eagerOptionalModules`).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { eagerOptionalModules } from '../../lib/runtime/runtime-bundle';

/** A region's configuration, the least the runtime needs. */
const CONFIG = {
  region: 'eu-west-1',
  jurisdiction: { name: 'eu', regions: ['eu-west-1'], geography: 'eu', restricted: true },
  chain: [{ modelId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'eu-west-1', tier: 'primary' }],
  table: { name: 'conversations-eu', homeRegion: 'eu-west-1' },
};

test('a one-file CommonJS bundle of the runtime loads and initializes, the MCP client inside it', async () => {
  // GIVEN the handler bundled in one CommonJS file, as the playground's bundle is
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'one-file-runtime-'));
  const file = path.join(directory, 'index.js');
  await build({
    entryPoints: [path.join(__dirname, '..', '..', 'lambda', 'agent', 'index.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    plugins: [eagerOptionalModules],
    logLevel: 'silent',
  });

  // WHEN a fresh process loads it with a region's configuration
  const output = execFileSync(
    process.execPath,
    [
      '-e',
      `globalThis.awslambda = { streamifyResponse: (handler) => handler }; const { handler } = require(${JSON.stringify(file)}); console.log('handler:' + typeof handler); process.exit(0);`,
    ],
    {
      cwd: directory,
      encoding: 'utf8',
      env: {
        ...process.env,
        AGENT_CONFIG: JSON.stringify(CONFIG),
        AWS_REGION: 'eu-west-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );

  // THEN it initialized (zod's modules in order), and the optional modules are in the file, not imported
  expect(output).toContain('handler:function');
  const code = fs.readFileSync(file, 'utf8');
  expect(code).toContain('notifications/tools/list_changed');
  expect(code).not.toMatch(/import\(["']\.\/agent\/mcp-servers/);
  fs.rmSync(directory, { recursive: true, force: true });
});
