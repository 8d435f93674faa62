/**
 * A tool source whose code is still loading: the runtime hands the tool
 * runner one at once and imports the source's module beside it (the MCP
 * client, mcp-servers.ts), so that a runtime without MCP servers never
 * loads that code and one with them waits for it only at its first message.
 * A module that fails to load is a problem of that source, as an unreadable
 * tool list is: its tools are missing, the message is answered.
 */
import type { RunnableTool } from './definition';
import type { ToolSource } from './mcp-tools';

export class DeferredToolSource implements ToolSource {
  constructor(
    readonly name: string,
    private readonly source: Promise<ToolSource>,
    private readonly onProblem: (source: string, problem: string) => void,
  ) {
    // Told when a message asks for the tools; until then a failed load is not an unhandled rejection.
    source.catch(() => undefined);
  }

  tools(): Promise<RunnableTool[]> {
    return this.loaded((source) => source.tools());
  }

  refresh(): Promise<RunnableTool[]> {
    return this.loaded((source) => source.refresh());
  }

  async close(): Promise<void> {
    await this.source.then((source) => source.close()).catch(() => undefined);
  }

  private async loaded(read: (source: ToolSource) => Promise<RunnableTool[]>): Promise<RunnableTool[]> {
    let source: ToolSource;
    try {
      source = await this.source;
    } catch (error) {
      this.onProblem(this.name, `its client could not be loaded: ${(error as Error).message}`);
      return [];
    }
    return read(source);
  }
}
