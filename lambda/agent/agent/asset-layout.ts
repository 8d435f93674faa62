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
  /** The MCP servers whose tools the agent uses: `McpServerSpec[]` as JSON. */
  mcpServers: 'mcp-servers.json',
} as const;

/**
 * The CloudFormation metadata entry that marks the runtime's function in a
 * template (`Metadata: { [key]: value }`), so that `agentctl local` finds every
 * runtime of a cloud assembly, however the app composed it.
 */
export const RUNTIME_FUNCTION_METADATA = { key: 'cdk-multi-region-agent:function', value: 'agent-runtime' } as const;

/** Environment variable holding each Lambda tool's function ARN, `{"<tool name>": "<arn>"}`: ARNs are known only at deployment. */
export const TOOL_FUNCTIONS_ENV_VAR = 'AGENT_TOOL_FUNCTIONS';

/** Environment variable holding the URL of each MCP server whose URL is known only at deployment (a function URL), `{"<server name>": "<url>"}`. */
export const MCP_URLS_ENV_VAR = 'AGENT_MCP_URLS';

/** A tool that is a Lambda function, as lambda-tools.json lists it. */
export interface LambdaToolSpec {
  /** The tool's name, as the model calls it. */
  name: string;
  /** What the tool does, as the model reads it. */
  description: string;
  /** A JSON Schema of an object. */
  inputSchema: Record<string, unknown>;
  /** How long one call may run before the model is told it timed out. */
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
  /** The name of the tool called (one function may serve several tools). */
  tool: string;
  /** The input the model gave, valid against the tool's input schema. */
  input: unknown;
  /** The id the model gave this tool use. */
  toolUseId: string;
  /** The conversation the call serves. */
  conversationId: string;
  /** The conversation's owner (see docs/http-api.md, Owners); for a backend acting for an end user, the backend. */
  caller: string;
  /** The end user the caller acts for, when it names one. */
  endUser?: string;
  /** The region whose runtime called the function. */
  region: string;
}

/** How the runtime authenticates to an MCP server. */
export type McpAuthSpec =
  /** `Authorization: Bearer <token>`, the token read from this secret (in the runtime's region). */
  | { kind: 'bearer'; secretArn: string }
  /** AWS SigV4 with the runtime's role: Lambda function URLs (`lambda`), AgentCore Gateway (`bedrock-agentcore`). */
  | { kind: 'sigv4'; service: string; region: string };

/** An MCP server (streamable HTTP) whose tools the agent uses, as mcp-servers.json lists it. */
export interface McpServerSpec {
  /** What logs and metrics call the server: its URL's host and path. */
  name: string;
  /** Empty when the URL is in MCP_URLS_ENV_VAR. */
  url: string;
  /** Where the server processes: a region, or a residency the construct checked. */
  region?: string;
  residency?: string;
  auth?: McpAuthSpec;
  /** Only these of the server's tools (its own names). */
  include?: string[];
  /** None of these (its own names). */
  exclude?: string[];
  /** Put before each of the server's tool names, so that two servers' tools cannot clash. */
  prefix?: string;
  /** Each request's time limit: a tool call, a listing, the session's initialization. */
  timeoutMs: number;
  /** Whether its tools need a person's approval before they run: all, or these (its own names). */
  needsApproval?: boolean | string[];
}
