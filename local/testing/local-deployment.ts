/**
 * A running local deployment, as a test suite drives it: clients per
 * location or region, faults, scripted model turns, the model calls and
 * tool runs made, and close(). Each one owns its servers, emulators,
 * scripts and records: several may run at once in one process.
 */
import * as fs from 'node:fs';
import { ControlError } from '../front-door';
import { Playground, type PlaygroundOptions } from '../playground';
import type { FaultRule } from '../bedrock-emulator';
import type { ProviderFaultRule } from '../provider-emulator';
import type { ModelService, ScriptScope, ScriptedTurn } from '../model-script';
import type { ToolRun } from '../tool-runs';
import { AgentClient, type ClientTarget } from './agent-client';

/** A fault of a Bedrock endpoint (`region`, optionally one `model` and one `step` of the tool loop). */
export type BedrockFault = FaultRule;
/** A fault of an outside provider's emulator (`provider`: `openai` or `anthropic`). */
export type ProviderFault = ProviderFaultRule & { provider: 'openai' | 'anthropic' };
/**
 * A fault of an MCP server the app deploys as a function behind a function URL: a 5xx, a delay, or the
 * sessions it issued dropped (their ids get 404), for one region's server or every region's.
 */
export interface McpServerFault {
  /** The server's name, as AgentTool.fromMcpServer's `name` (or its URL's host) gives it. */
  mcpServer: string;
  /** Only the server of this region. @default - every region's */
  region?: string;
  /** What the server does: answers with this status, answers this much later, or forgets the sessions it issued. */
  fault: { status: number } | { delayMs: number } | { dropSession: true };
  /** For a status or a delay: only the next this many requests (`dropSession` ignores it). @default - until cleared */
  times?: number;
}

/** One call of an emulated model, in the order received. */
export interface ModelCall {
  /** The emulated service called. */
  service: ModelService;
  /** The Bedrock endpoint's region, or the provider's label (`openai-us`). */
  region: string;
  /** The model id exactly as called. */
  model: string;
  /** The call's step in its message's tool loop (1: the call answering the user's text). */
  step: number;
  /** The status answered (200, or the fault's or scripted error's). */
  status: number;
  /** An injected fault applied to it. */
  faulted: boolean;
  /** A scripted turn answered it. */
  scripted: boolean;
  /** The request body as received (Converse, or the provider's own API). */
  request: unknown;
  /** When the call was received (epoch milliseconds). */
  at: number;
}

/** One region of a local deployment, and what its runtime calls. */
export interface RegionInfo {
  /** The region's name (`eu-west-1`). */
  region: string;
  /** The jurisdiction it belongs to (`eu`). */
  jurisdiction: string;
  /** The agent API's base URL of this region's runtime. */
  url: string;
  /** The Bedrock model ids that some chain calls at this region's endpoint. */
  models: string[];
}

/** A running local deployment, started by `startLocalDeployment`: clients, faults, scripted model turns, the model calls and tool runs made, and close(). */
export class LocalDeployment {
  /** Starts the playground with scheduled probes and health checks off, so that only the test's messages reach the models. */
  static async start(options: PlaygroundOptions, cleanup: () => void = () => undefined): Promise<LocalDeployment> {
    try {
      return new LocalDeployment(await Playground.start({ scheduled: false, firstTokenDelayMs: 0, tokenDelayMs: 0, ...options }), cleanup);
    } catch (error) {
      cleanup();
      throw error;
    }
  }

  private closed?: Promise<void>;

  private constructor(
    /** The playground underneath, for what this API does not cover. */
    readonly playground: Playground,
    private readonly cleanup: () => void,
  ) {}

  /** The front door's URL (Route 53's stand-in; `/_local/...` is its control API, `/` the web page). */
  get url(): string {
    return this.playground.url;
  }

  /** Each region of the deployment: its jurisdiction, its runtime's URL and the models its chains call there. */
  get regions(): RegionInfo[] {
    return this.playground.regions.map((region) => ({
      region: region.region,
      jurisdiction: region.jurisdiction,
      url: region.server.url,
      models: [...this.playground.frontDoor.modelsCalledIn(region.region)],
    }));
  }

  /** A caller in a location (routed by the front door), or of one region's runtime. @default - the deployment's default location */
  client(target: ClientTarget = {}): AgentClient {
    if (target.location !== undefined && target.region !== undefined) throw new TypeError('client: give a location or a region, not both');
    if (target.region === undefined) return new AgentClient(this.url, target);
    return new AgentClient(this.region(target.region).server.url, target);
  }

  /** Faults of the emulated models (Bedrock's per region, model and step, the outside providers' per model and residency) and of the MCP servers. */
  readonly faults = {
    /** Adds a fault rule; throws naming the field, region or model the deployment does not have. */
    inject: (rule: BedrockFault | ProviderFault | McpServerFault): void => {
      try {
        this.playground.frontDoor.injectFault(rule);
      } catch (error) {
        throw error instanceof ControlError ? new Error(`fault refused: ${error.message}`) : error;
      }
    },
    clear: (): void => this.playground.frontDoor.clearFaults(),
  };

  /**
   * Queues scripted turns of the emulated models: each model call in scope
   * takes the next one (a text, tool calls with the given inputs, or an
   * error) instead of its default answer; calls out of scope, and calls once
   * the queue is empty, answer as usual. A call refused by an injected fault
   * takes no turn.
   */
  script(turns: readonly ScriptedTurn[], scope: ScriptScope = {}): void {
    this.checkScope(scope);
    this.playground.script.add(turns, scope);
  }

  /** How many scripted turns no call has taken yet. */
  get pendingTurns(): number {
    return this.playground.script.pending;
  }

  /** Every call the emulated models received (Bedrock's and the outside providers'), in order. */
  modelCalls(filter: { region?: string; model?: string; service?: ModelService } = {}): ModelCall[] {
    const { emulator, providers } = this.playground;
    const calls: ModelCall[] = [
      ...emulator.calls().map(({ region, modelId, step, status, faulted, scripted, request, at }) => ({
        service: 'bedrock' as const,
        region,
        model: modelId,
        step,
        status,
        faulted,
        scripted,
        request,
        at,
      })),
      ...(['openai', 'anthropic'] as const).flatMap((service) =>
        providers[service].calls().map(({ model, residency, step, status, scripted, request, at }) => ({
          service,
          region: providers[service].regionLabel(residency),
          model,
          step,
          status,
          faulted: false,
          scripted,
          request,
          at,
        })),
      ),
    ];
    return calls
      .filter(
        (call) =>
          (filter.region === undefined || call.region === filter.region) &&
          (filter.model === undefined || call.model === filter.model) &&
          (filter.service === undefined || call.service === filter.service),
      )
      .sort((a, b) => a.at - b.at);
  }

  /** Every run of the agents' tools (code and Lambda), with input and output, in the order they ended. */
  toolRuns(filter: { region?: string; tool?: string } = {}): ToolRun[] {
    return this.playground.toolRuns.list(filter);
  }

  /** Clears faults, scripted turns, recorded calls and tool runs, and brings every region up: a clean slate between tests. */
  reset(): void {
    const { frontDoor, script, emulator, providers, toolRuns, lambda, regions } = this.playground;
    frontDoor.clearFaults();
    script.clear();
    emulator.clearCalls();
    providers.openai.clearCalls();
    providers.anthropic.clearCalls();
    lambda.clearCalls();
    toolRuns.clear();
    for (const region of regions) region.server.available = true;
  }

  /** Stops every server and emulator and removes what the deployment wrote on disk; safe to call twice. */
  close(): Promise<void> {
    this.closed ??= this.playground.close().finally(() => this.cleanup());
    return this.closed;
  }

  /** Disposes of it with `await using` (TypeScript 5.2+). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private region(name: string) {
    const region = this.playground.regions.find((candidate) => candidate.region === name);
    if (!region) throw new Error(`unknown region ${name} (the deployment has ${this.playground.regions.map((candidate) => candidate.region).join(', ')})`);
    return region;
  }

  /** A scope naming a region or model the deployment never calls would never match: refuse it. */
  private checkScope(scope: ScriptScope): void {
    const { regions, frontDoor, emulator } = this.playground;
    if (scope.region !== undefined && !(scope.region in emulator.endpoints)) {
      throw new Error(`script: unknown region ${scope.region} (the deployment calls Bedrock in ${Object.keys(emulator.endpoints).join(', ')})`);
    }
    if (scope.model === undefined) return;
    const bedrock = scope.service === undefined || scope.service === 'bedrock';
    const called = new Set([
      ...(bedrock ? Object.keys(emulator.endpoints).filter((region) => scope.region === undefined || region === scope.region) : []).flatMap((region) => [
        ...frontDoor.modelsCalledIn(region),
      ]),
      ...(scope.region === undefined
        ? regions.flatMap((region) =>
            region.chain
              .filter((target) => target.provider && (scope.service ?? target.provider.name) === target.provider.name)
              .map((target) => target.modelId),
          )
        : []),
    ]);
    if (!called.has(scope.model)) {
      throw new Error(
        `script: no chain calls ${scope.model}${scope.region ? ` in ${scope.region}` : ''} (it calls ${[...called].join(', ') || 'nothing there'})`,
      );
    }
  }
}

/** Removes a directory the deployment made, if it still exists. */
export function removeDirectory(directory: string): () => void {
  return () => fs.rmSync(directory, { recursive: true, force: true });
}
