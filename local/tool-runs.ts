/**
 * The tool runs of a local deployment, as the tools saw them: each code
 * tool of an agent and each Lambda tool's handler is wrapped where the
 * deployment loads it, so that a test can read what a tool was given and
 * what it returned (or threw), in the order the runs ended.
 */
import type { AgentDefinition, RunnableTool } from '../lambda/agent/agent/definition';
import type { LambdaToolEvent } from '../lambda/agent/agent/asset-layout';
import type { LambdaHandler } from './lambda-emulator';

/** One run of a tool in a local deployment: what it was given and what it returned or threw. */
export interface ToolRun {
  /** The region whose runtime (code tool) or function (Lambda tool) ran it. */
  region: string;
  /** The tool's name. */
  tool: string;
  /** `code` for a tool defined in the agent, `lambda` for a Lambda tool. */
  kind: 'code' | 'lambda';
  /** The model's tool-use id. */
  toolUseId: string;
  /** The input the model gave it. */
  input: unknown;
  /** False when the tool threw (or, for a Lambda tool, its handler did). */
  ok: boolean;
  /** What the tool returned, when ok. */
  output?: unknown;
  /** The thrown error's message, when not ok. */
  error?: string;
}

export class ToolRunLog {
  private runs: ToolRun[] = [];

  list(filter: { region?: string; tool?: string } = {}): ToolRun[] {
    return this.runs.filter((run) => (filter.region === undefined || run.region === filter.region) && (filter.tool === undefined || run.tool === filter.tool));
  }

  clear(): void {
    this.runs = [];
  }

  /** The agent with each code tool recording its runs in `region`. */
  recordCodeTools(agent: AgentDefinition, region: string): AgentDefinition {
    const tools = agent.tools.map((tool): RunnableTool => ({
      ...tool,
      execute: (input, context) =>
        this.record({ region, tool: tool.name, kind: 'code', toolUseId: context.toolCallId, input }, () => tool.execute(input, context)),
    }));
    return { ...agent, tools };
  }

  /** The Lambda tool's handler, recording its runs in `region`. */
  recordLambdaTool(handler: LambdaHandler, region: string, tool: string): LambdaHandler {
    return (event, context) => {
      const { input, toolUseId } = (event ?? {}) as Partial<LambdaToolEvent>;
      return this.record({ region, tool, kind: 'lambda', toolUseId: toolUseId ?? '', input }, async () => handler(event, context));
    };
  }

  private async record(run: Omit<ToolRun, 'ok'>, execute: () => Promise<unknown>): Promise<unknown> {
    try {
      const output = await execute();
      this.runs.push({ ...run, ok: true, output });
      return output;
    } catch (error) {
      this.runs.push({ ...run, ok: false, error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }
}
