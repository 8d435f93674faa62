/**
 * The MCP servers of the deployment that are functions behind function
 * URLs, each served on loopback (local/function-url-host.ts) in its region,
 * and the control API's faults for them.
 */
import { FunctionUrlHost } from './function-url-host';
import { loadToolHandler } from './lambda-tool-loader';
import type { McpServerFunction } from './playground';

export interface McpServerFaultRule {
  /** The server's name, as the runtime's AGENT_MCP_URLS (and AgentTool.fromMcpServer's `name`) gives it. */
  server: string;
  /** Only the server of this region. @default - every region's */
  region?: string;
  fault: { status: number } | { delayMs: number } | { dropSession: true };
  /** For a status or a delay: only the next this many requests. @default - until cleared */
  times?: number;
}

interface Served {
  server: string;
  region: string;
  file: string;
  host: FunctionUrlHost;
}

export class LocalMcpServers {
  private readonly served = new Map<string, Served>();

  constructor(private readonly host: string) {}

  /** The loopback URL serving the server's function for `region`, started on first use (again when its code changed). */
  async serve(server: McpServerFunction, region: string): Promise<string> {
    const { function: fn } = server;
    const known = this.served.get(fn.functionArn);
    if (known?.file === fn.file) return known.host.url;
    await known?.host.close();
    const host = await FunctionUrlHost.start(await loadToolHandler(fn), {
      host: this.host,
      functionName: fn.functionArn.split(':').pop()!,
      timeoutMs: fn.timeoutMs,
    });
    this.served.set(fn.functionArn, { server: fn.name, region, file: fn.file, host });
    return host.url;
  }

  /** Applies a fault to the matching servers; the number of servers it applies to (0: none is served by that name there). */
  fail(rule: McpServerFaultRule): number {
    const matching = [...this.served.values()].filter((served) => served.server === rule.server && (rule.region ?? served.region) === served.region);
    for (const { host } of matching) {
      if ('dropSession' in rule.fault) host.dropSessions();
      else if ('status' in rule.fault) host.fail({ kind: 'status', status: rule.fault.status, times: rule.times });
      else host.fail({ kind: 'delay', delayMs: rule.fault.delayMs, times: rule.times });
    }
    return matching.length;
  }

  /** What is served, for the control API's error messages. */
  names(): string[] {
    return [...new Set([...this.served.values()].map((served) => `${served.server} (${served.region})`))];
  }

  clearFaults(): void {
    for (const { host } of this.served.values()) host.clearFaults();
  }

  async close(): Promise<void> {
    await Promise.all([...this.served.values()].map(({ host }) => host.close()));
    this.served.clear();
  }
}
