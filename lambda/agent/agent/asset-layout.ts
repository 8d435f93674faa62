/**
 * What the runtime's code asset holds beside the handler, and where the
 * parts that only exist at deployment come from. Plain data shared by lib/
 * (which writes the asset) and the runtime (which reads it at cold start),
 * so the two cannot drift.
 *
 * Instructions and tool specifications live in files of the bundle, not in
 * the environment: Lambda allows 4 KB of environment variables in all.
 */
export const AgentAsset = {
  /** The user's agent entry, bundled (ESM); absent for an agent without code. */
  agentModule: 'agent.mjs',
  /** Instructions given to the construct rather than in code (UTF-8 text). */
  instructions: 'instructions.md',
  /** The specifications of tools that are Lambda functions: `LambdaToolSpec[]` as JSON. */
  lambdaTools: 'lambda-tools.json',
} as const;

/** Environment variable holding each Lambda tool's function ARN, `{"<tool name>": "<arn>"}`: ARNs are known only at deployment. */
export const TOOL_FUNCTIONS_ENV_VAR = 'AGENT_TOOL_FUNCTIONS';

/** A tool that is a Lambda function, as lambda-tools.json lists it. */
export interface LambdaToolSpec {
  name: string;
  description: string;
  /** A JSON Schema of an object. */
  inputSchema: Record<string, unknown>;
  timeoutMs: number;
  /** Every call waits for the conversation owner's approval. @default false */
  needsApproval?: boolean;
}

/**
 * What a Lambda tool function receives, and must answer: its result as any
 * JSON value. A function error (thrown in the handler) is told to the model
 * as the tool's error.
 */
export interface LambdaToolEvent {
  tool: string;
  input: unknown;
  toolUseId: string;
  conversationId: string;
  caller: string;
  /** The end user the caller acts for, when it names one. */
  endUser?: string;
  region: string;
}
