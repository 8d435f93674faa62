/**
 * Reads the agent the construct shipped beside the handler (asset-layout.ts):
 * the bundled user entry, the instructions file, the Lambda tools'
 * specifications and their ARNs, the MCP servers. Anything missing means "none": a runtime
 * without an agent of its own answers as a plain chat relay.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentAsset, MCP_URLS_ENV_VAR, TOOL_FUNCTIONS_ENV_VAR, type LambdaToolSpec, type McpServerSpec } from './asset-layout';
import { agentOf } from './agent-kind';
import type { AgentDefinition } from './definition';

export interface AgentAssetContents {
  agent?: AgentDefinition;
  instructions?: string;
  lambdaTools?: { specs: LambdaToolSpec[]; functionArns: Record<string, string> };
  mcpServers?: McpServerSpec[];
}

export async function loadAgentAsset(directory: string, env: NodeJS.ProcessEnv = process.env): Promise<AgentAssetContents> {
  const file = (name: string) => path.join(directory, name);
  const contents: AgentAssetContents = {};
  if (existsSync(file(AgentAsset.agentModule))) {
    const module = (await import(pathToFileURL(file(AgentAsset.agentModule)).href)) as Record<string, unknown>;
    contents.agent = agentOf(module);
    if (!contents.agent) throw new Error(`${AgentAsset.agentModule} exports no agent: export default defineAgent({ ... })`);
  }
  if (existsSync(file(AgentAsset.instructions))) contents.instructions = readFileSync(file(AgentAsset.instructions), 'utf8');
  if (existsSync(file(AgentAsset.lambdaTools))) {
    const specs = JSON.parse(readFileSync(file(AgentAsset.lambdaTools), 'utf8')) as LambdaToolSpec[];
    contents.lambdaTools = { specs, functionArns: JSON.parse(env[TOOL_FUNCTIONS_ENV_VAR] ?? '{}') as Record<string, string> };
  }
  if (existsSync(file(AgentAsset.mcpServers))) {
    const urls = JSON.parse(env[MCP_URLS_ENV_VAR] ?? '{}') as Record<string, string>;
    const specs = JSON.parse(readFileSync(file(AgentAsset.mcpServers), 'utf8')) as McpServerSpec[];
    contents.mcpServers = specs.map((spec) => ({ ...spec, url: spec.url || urls[spec.name] || '' }));
  }
  return contents;
}
