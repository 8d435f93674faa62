/**
 * What a user's agent entry file imports (`cdk-multi-region-agent/agent`):
 * light on purpose, with no AWS SDK and no aws-cdk-lib, since it is bundled
 * into the runtime with the user's own code.
 *
 * @packageDocumentation
 */
export { defineAgent, tool, AgentDefinitionError, DEFAULT_MAX_STEPS, DEFAULT_TOOL_TIMEOUT_MS } from './definition';
export type { AgentDefinition, AgentProps, AgentTool, ToolContext, ToolLike } from './definition';
