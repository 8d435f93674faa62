import type { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { LambdaToolSpec } from '../../lambda/agent/agent/asset-layout';
import { TOOL_NAME_PATTERN } from '../../lambda/agent/agent/definition';
import { normalizeSchema, ToolSchemaError, type JsonSchema } from '../../lambda/agent/agent/tool-schema';
import { MultiRegionAgentError } from '../errors';
import { McpServerTool, type McpServerToolOptions } from './mcp-server-tool';

/** The longest a tool call may take: Lambda's own limit for one invocation. */
const MAX_TOOL_TIMEOUT_MS = 900_000;

/** What {@link AgentTool.fromFunction} needs to offer a Lambda function to the model as a tool. */
export interface LambdaToolOptions {
  /** The tool's name, as the model calls it: 1 to 64 of A-Z a-z 0-9 _ - (Bedrock's rule), unique among the agent's tools. */
  readonly name: string;
  /** What the tool does and when to use it, for the model. */
  readonly description: string;
  /**
   * The tool's input: a JSON Schema of an object, or a zod 4 schema of an
   * object (converted to JSON Schema here; the function receives the input
   * as the model wrote it, validated against that schema by the runtime).
   */
  readonly inputSchema: object;
  /**
   * How long one call may take before the model is told that the tool timed out.
   * @default - the agent's `toolTimeoutMs` (10 seconds unless its code says otherwise)
   */
  readonly timeout?: Duration;
  /**
   * Whether every call waits for the conversation owner's approval before
   * the function is invoked (see docs/http-api.md, Approvals).
   * @default false
   */
  readonly needsApproval?: boolean;
}

/**
 * A tool of the agent that is a Lambda function, beside the tools of the
 * agent's code. The runtime invokes the function (synchronously) with a
 * `LambdaToolEvent` (`{ tool, input, toolUseId, conversationId, caller,
 * region }`) and gives the model its result, any JSON value; an error the
 * function throws is told to the model as the tool's error.
 *
 * The function must run in a region of the runtime's jurisdiction: tool
 * inputs carry the conversation's data.
 */
export class AgentTool {
  /**
   * The tools of an MCP server (streamable HTTP), listed by the runtime at
   * its first message; docs/constructs.md, "Tools from MCP servers", says how.
   */
  static fromMcpServer(options: McpServerToolOptions): McpServerTool {
    return new McpServerTool(options);
  }

  /** The Lambda function `fn` as a tool named `options.name`. */
  static fromFunction(fn: lambda.IFunction, options: LambdaToolOptions): AgentTool {
    const where = `AgentTool.fromFunction: tool '${options.name}'`;
    if (typeof options.name !== 'string' || !TOOL_NAME_PATTERN.test(options.name)) {
      throw new MultiRegionAgentError('InvalidToolName', `${where}: Bedrock accepts tool names of 1-64 characters of A-Z a-z 0-9 _ -`);
    }
    if (typeof options.description !== 'string' || options.description.trim() === '') {
      throw new MultiRegionAgentError('InvalidToolDescription', `${where}: description is empty; say what the tool does, for the model`);
    }
    let inputSchema: JsonSchema;
    try {
      inputSchema = normalizeSchema(options.inputSchema).jsonSchema;
    } catch (error) {
      if (!(error instanceof ToolSchemaError)) throw error;
      throw new MultiRegionAgentError('InvalidToolSchema', `${where}: inputSchema: ${error.message}`);
    }
    const timeoutMs = options.timeout?.toMilliseconds();
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TOOL_TIMEOUT_MS)) {
      throw new MultiRegionAgentError('InvalidToolTimeout', `${where}: timeout must be from 1 ms to 15 minutes, got ${timeoutMs} ms`);
    }
    if (options.needsApproval !== undefined && typeof options.needsApproval !== 'boolean') {
      throw new MultiRegionAgentError('InvalidToolApproval', `${where}: needsApproval must be true or false, got ${typeof options.needsApproval}`);
    }
    return new AgentTool(options.name, options.description.trim(), structuredClone(inputSchema), fn, timeoutMs, options.needsApproval === true);
  }

  /** The function the runtime invokes. */
  readonly function: lambda.IFunction;

  private constructor(
    /** The tool's name, as the model calls it. */
    readonly name: string,
    /** What the tool does, for the model. */
    readonly description: string,
    /** The tool's input, as the JSON Schema of an object. */
    readonly inputSchema: Readonly<Record<string, unknown>>,
    fn: lambda.IFunction,
    private readonly timeoutMs: number | undefined,
    /** Every call waits for the owner's approval. */
    readonly needsApproval: boolean,
  ) {
    this.function = fn;
  }

  /** The tool's entry in the code asset's `lambda-tools.json`, with `defaultTimeoutMs` when it has no timeout of its own. */
  specFor(defaultTimeoutMs: number): LambdaToolSpec {
    return {
      name: this.name,
      description: this.description,
      inputSchema: { ...this.inputSchema },
      timeoutMs: this.timeoutMs ?? defaultTimeoutMs,
      ...(this.needsApproval ? { needsApproval: true } : {}),
    };
  }
}

/** What an agent's `tools` take: Lambda tools and MCP servers. */
export type AgentToolSource = AgentTool | McpServerTool;
