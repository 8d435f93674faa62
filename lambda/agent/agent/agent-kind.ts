/**
 * What the runtime knows of a definition without making one: how it
 * recognises the agent a module exports, and the rules it shares with
 * defineAgent. The runtime's handler imports this, not definition.ts, so
 * that defineAgent's schema normalization (tool-schema.ts: zod's JSON Schema
 * converter, the JSON Schema validator) stays out of what its init loads:
 * a user's agent bundle carries its own.
 */
import type { AgentDefinition } from './definition';

/** Marks a definition made by this package, whichever copy of it bundled the user's code. */
export const AGENT_KIND = 'cdk-multi-region-agent/agent@1';

/** Model calls per message when the agent does not set `maxSteps`. */
export const DEFAULT_MAX_STEPS = 10;

/** Bedrock's ToolSpecification name rule. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** Whether a module's export is a definition made by defineAgent (of any copy of this package). */
export function isAgentDefinition(value: unknown): value is AgentDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === AGENT_KIND &&
    typeof (value as { manifest?: unknown }).manifest === 'function'
  );
}

/** The agent an entry module exports: its default export, or an export named `agent`. */
export function agentOf(module: Record<string, unknown>): AgentDefinition | undefined {
  const candidate = [module.default, module.agent, (module.default as Record<string, unknown> | undefined)?.default].find(isAgentDefinition);
  return candidate as AgentDefinition | undefined;
}
