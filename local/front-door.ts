/**
 * The playground's front door on one port: it routes agent requests to a
 * region the way the deployed Route 53 records would, serves the control API
 * (`/_local/...`) and the web page (`/`).
 *
 * Routing, as in AWS:
 * - `Host: <jurisdiction>.<anything>` reaches only that jurisdiction's regions
 *   (the `<jurisdiction>.<name>` latency records);
 * - otherwise a caller located in a geolocated jurisdiction's area stays in
 *   it (the public name's geolocation records), anyone else gets the nearest
 *   region of all;
 * - within the candidates, the healthy region with the lowest simulated
 *   latency from the caller's location (`x-local-location`) wins; when none
 *   is healthy Route 53 fails open, so the request goes to the nearest one
 *   anyway and meets its outage.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream';
import * as z from 'zod/mini';
import type { ChainTarget } from '../lambda/agent/config';
import type { BedrockEmulator } from './bedrock-emulator';
import type { AgentServer } from './agent-server';
import { buildClientBundle } from './client-bundle';
import { listen } from './listen';
import type { MetricsBoard } from './metrics-board';
import type { LocalMcpServers } from './mcp-servers';
import type { ProviderServices } from './provider-services';
import { signatureRefusal, type LocalSigningKey } from './sigv4-verifier';

/** More routes under `/_local/` (the page's views); `serve` answers false for a request that is not one of them. */
export interface LocalRoutes {
  serve(request: http.IncomingMessage, response: http.ServerResponse, url: URL): Promise<boolean>;
}

const LOCATION_HEADER = 'x-local-location';
/** Where the page loads the typed client from (`globalThis.AgentClientLib`). */
const CLIENT_ASSET = '/_local/assets/agent-client.js';
/** What a signed request may carry at most (the runtime's own limit is lower; this only bounds the verifier's buffer). */
const MAX_SIGNED_BODY_BYTES = 8 * 1024 * 1024;

/** A name of the deployment: a jurisdiction's (latency-routed among its regions) or a region's own. */
type Name = { jurisdiction: string } | { region: string };

/** Where each jurisdiction is served, in the typed client's `endpoints` shape. */
export type LocalEndpoints = Record<string, { url: string; regions: Record<string, string> }>;

export interface FrontDoorOptions {
  /**
   * Check SigV4 signatures as API Gateway's IAM authorization does (see sigv4-verifier.ts).
   * @default - unsigned requests pass, as the page and the curl examples send them
   */
  signingKey?: LocalSigningKey;
  /** The deployment's MCP servers served on loopback, for the control API's MCP faults. */
  mcpServers?: LocalMcpServers;
}
const ROUTED_TO_HEADER = 'x-local-routed-to';

export interface PlaygroundRegion {
  region: string;
  jurisdiction: string;
  /** Callers located in this jurisdiction's area are kept in it (its geolocation records). */
  keepsLocatedUsers: boolean;
  /** The area prefix of locations that belong to the jurisdiction (its inference geography, e.g. `eu`). */
  area: string;
  server: AgentServer;
  bedrockEndpoint: string;
  /** The models the region's runtime calls, and where. */
  chain: readonly ChainTarget[];
}

/**
 * Simulated network latency from a caller location (`eu`, `eu-central`,
 * `us-west`, `apac`…) to a region: the region's own area is near, its
 * continent nearby, the rest far.
 */
function simulatedLatencyMs(location: string, region: string): number {
  const normalized = location.replace(/^apac/, 'ap');
  if (region.startsWith(normalized)) return 10;
  if (region.startsWith(`${normalized.split('-')[0]}-`)) return 30;
  return 120;
}

const faultSchema = z.union([
  z.strictObject({ status: z.number().check(z.int(), z.gte(400), z.lte(599)), errorType: z.optional(z.string()) }),
  z.strictObject({ stallMs: z.number().check(z.int(), z.positive()) }),
  z.strictObject({ tokenDelayMs: z.number().check(z.int(), z.gte(0)) }),
  z.strictObject({ failAfterTokens: z.number().check(z.int(), z.gte(0)) }),
  z.strictObject({ endAfterTokens: z.number().check(z.int(), z.gte(0)) }),
]);
const faultRequestSchema = z.strictObject({
  region: z.string(),
  model: z.optional(z.string()),
  /** Only calls of this step of a tool loop (2: the call after the first tool round). */
  step: z.optional(z.number().check(z.int(), z.positive())),
  fault: faultSchema,
  times: z.optional(z.number().check(z.int(), z.positive())),
  /** A share of the matching calls drawn per call (0.1: each call with a chance of one in ten). */
  probability: z.optional(z.number().check(z.gt(0), z.lte(1))),
  /** One call in each run of this many, at a random place in the run (10: exactly a tenth). */
  every: z.optional(z.number().check(z.int(), z.positive())),
});

const count = z.number().check(z.int(), z.gte(0));

/** A fault of an outside provider's emulator: the Bedrock faults, its own statuses (529) with retry-after, and garbage. */
const providerFaultSchema = z.union([
  z.strictObject({ status: z.number().check(z.int(), z.gte(400), z.lte(599)), retryAfterSeconds: z.optional(count) }),
  z.strictObject({ stallMs: z.number().check(z.int(), z.positive()), phase: z.optional(z.enum(['headers', 'first-token'])) }),
  z.strictObject({ tokenDelayMs: count }),
  z.strictObject({ failAfterTokens: count }),
  z.strictObject({ endAfterTokens: count }),
  z.strictObject({ garbage: z.enum(['body', 'stream']) }),
]);

/** A fault of an MCP server the deployment runs as a function behind a function URL. */
const mcpFaultRequestSchema = z.strictObject({
  mcpServer: z.string(),
  region: z.optional(z.string()),
  fault: z.union([
    z.strictObject({ status: z.number().check(z.int(), z.gte(500), z.lte(599)) }),
    z.strictObject({ delayMs: z.number().check(z.int(), z.positive()) }),
    z.strictObject({ dropSession: z.literal(true) }),
  ]),
  times: z.optional(z.number().check(z.int(), z.positive())),
});

const providerFaultRequestSchema = z.strictObject({
  provider: z.enum(['openai', 'anthropic']),
  model: z.optional(z.string()),
  /** Only calls processed in this residency (`us`, `eu`, `global`). */
  residency: z.optional(z.string()),
  step: z.optional(z.number().check(z.int(), z.positive())),
  fault: providerFaultSchema,
  times: z.optional(z.number().check(z.int(), z.positive())),
});

/** The body as the schema reads it, or a 400 naming each field that is wrong. */
function parseControl<Schema extends z.ZodMiniType>(schema: Schema, body: unknown): z.output<Schema> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ControlError(400, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
  return parsed.data;
}

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class FrontDoor {
  private readonly server: http.Server;
  /** One port per name (`eu`, `eu-west-1`…), standing in for the DNS names `eu.agent.example.com`, `eu-west-1.agent.example.com`. */
  private readonly nameServers = new Map<string, { name: Name; server: http.Server; url: string }>();
  private readonly page: string;
  /** The typed client for the page, built by esbuild when the front door starts. */
  private clientBundle?: Promise<string>;
  url = '';

  constructor(
    private readonly regions: PlaygroundRegion[],
    private readonly emulator: BedrockEmulator,
    private readonly board: MetricsBoard,
    private readonly defaultLocation: string,
    private readonly views?: LocalRoutes,
    private readonly providers?: ProviderServices,
    private readonly options: FrontDoorOptions = {},
  ) {
    this.page = fs.readFileSync(path.join(__dirname, 'web', 'index.html'), 'utf8');
    this.server = this.createServer();
    const jurisdictions = [...new Set(regions.map((region) => region.jurisdiction))];
    for (const name of [...jurisdictions.map((jurisdiction) => ({ jurisdiction })), ...regions.map(({ region }) => ({ region }))])
      this.nameServers.set('jurisdiction' in name ? name.jurisdiction : name.region, { name, server: this.createServer(name), url: '' });
  }

  async listen(port: number, host: string): Promise<void> {
    // Built in the background now, so that the page's first load does not wait for esbuild.
    this.clientBundle ??= buildClientBundle({ format: 'iife', withSigner: false });
    // A failed build is answered when the page asks for the bundle; it must not end the process before then.
    this.clientBundle.catch(() => undefined);
    this.url = await listen(this.server, port, host);
    for (const named of this.nameServers.values()) named.url = await listen(named.server, 0, host);
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.server, ...[...this.nameServers.values()].map((named) => named.server)].map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  /** Each jurisdiction's name and its regions' names, as the typed client takes them. */
  endpoints(): LocalEndpoints {
    const url = (name: string) => this.nameServers.get(name)?.url ?? '';
    const jurisdictions = [...new Set(this.regions.map((region) => region.jurisdiction))];
    return Object.fromEntries(
      jurisdictions.map((jurisdiction) => [
        jurisdiction,
        {
          url: url(jurisdiction),
          regions: Object.fromEntries(
            this.regions.filter((region) => region.jurisdiction === jurisdiction).map((region) => [region.region, url(region.region)]),
          ),
        },
      ]),
    );
  }

  private createServer(name?: Name): http.Server {
    return http.createServer((request, response) => {
      this.route(request, response, name).catch((error: unknown) => {
        const status = error instanceof ControlError ? error.status : 500;
        if (!response.headersSent) response.writeHead(status, { 'content-type': 'application/json' });
        const code = status === 500 ? 'internal_error' : status === 404 ? 'not_found' : status === 403 ? 'unauthenticated' : 'bad_request';
        response.end(JSON.stringify({ error: { code, message: (error as Error).message } }));
      });
    });
  }

  /** The region a request would be sent to, as Route 53 would answer. */
  pick(host: string | undefined, location: string): PlaygroundRegion {
    const label = (host ?? '').split('.')[0];
    const byHost = this.regions.filter((region) => region.jurisdiction === label);
    const area = location.replace(/^apac/, 'ap').split('-')[0];
    const keeper = this.regions.find((region) => region.keepsLocatedUsers && region.area.replace(/^apac/, 'ap') === area);
    const candidates = byHost.length > 0 ? byHost : keeper ? this.regions.filter((region) => region.jurisdiction === keeper.jurisdiction) : this.regions;
    const nearest = (list: PlaygroundRegion[]) => [...list].sort((a, b) => simulatedLatencyMs(location, a.region) - simulatedLatencyMs(location, b.region))[0];
    const healthy = candidates.filter((region) => region.server.available);
    return nearest(healthy.length > 0 ? healthy : candidates);
  }

  private async route(request: http.IncomingMessage, response: http.ServerResponse, name?: Name): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (name) {
      await this.forward(
        request,
        response,
        url,
        name && 'region' in name ? this.region(name.region) : this.pick(`${name.jurisdiction}.`, this.locationOf(request)),
      );
      return;
    }
    if (url.pathname === '/' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(this.page);
      return;
    }
    if (url.pathname === CLIENT_ASSET && request.method === 'GET') {
      this.clientBundle ??= buildClientBundle({ format: 'iife', withSigner: false });
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(await this.clientBundle);
      return;
    }
    if (url.pathname.startsWith('/_local/')) {
      if (await this.views?.serve(request, response, url)) return;
      await this.control(request, response, url.pathname);
      return;
    }
    await this.forward(request, response, url, this.pick(request.headers.host, this.locationOf(request)));
  }

  private locationOf(request: http.IncomingMessage): string {
    return String(request.headers[LOCATION_HEADER] ?? this.defaultLocation);
  }

  private region(name: string): PlaygroundRegion {
    const region = this.regions.find((candidate) => candidate.region === name);
    if (!region) throw new ControlError(404, `unknown region ${name}`);
    return region;
  }

  /** To the region, once its signature is checked when the front door checks them (not /health: API Gateway answers it unauthenticated). */
  private async forward(request: http.IncomingMessage, response: http.ServerResponse, url: URL, region: PlaygroundRegion): Promise<void> {
    if (!this.options.signingKey || url.pathname === '/health') {
      this.proxy(request, response, url, region);
      return;
    }
    const body = await readBody(request);
    const refusal = await signatureRefusal(request, body, region.region, this.options.signingKey);
    if (refusal) throw new ControlError(403, refusal);
    this.proxy(request, response, url, region, body);
  }

  private async control(request: http.IncomingMessage, response: http.ServerResponse, pathname: string): Promise<void> {
    const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const downUp = /^\/_local\/regions\/([^/]+)\/(down|up)$/.exec(pathname);
    if (pathname === '/_local/regions' && request.method === 'GET') {
      json(
        200,
        this.regions.map((region) => ({
          region: region.region,
          jurisdiction: region.jurisdiction,
          baseUrl: region.server.url,
          bedrockEndpoint: region.bedrockEndpoint,
          healthy: region.server.available,
          models: [...this.modelsCalledIn(region.region)],
          providers: region.chain.flatMap((target) =>
            target.provider ? [{ provider: target.provider.name, residency: target.provider.residency, model: target.modelId }] : [],
          ),
        })),
      );
    } else if (pathname === '/_local/endpoints' && request.method === 'GET') {
      json(200, this.endpoints());
    } else if (pathname === '/_local/faults' && request.method === 'POST') {
      json(201, { injected: this.injectFault(await readJson(request)) });
    } else if (pathname === '/_local/faults' && request.method === 'DELETE') {
      this.clearFaults();
      response.writeHead(204).end();
    } else if (pathname === '/_local/calls' && request.method === 'GET') {
      json(
        200,
        this.emulator.calls().map(({ region, modelId, step, status, at }) => ({ region, modelId, step, status, at })),
      );
    } else if (pathname === '/_local/metrics' && request.method === 'GET') {
      json(200, this.board.snapshot());
    } else if (downUp && request.method === 'POST') {
      const region = this.regions.find((candidate) => candidate.region === downUp[1]);
      if (!region) throw new ControlError(404, `unknown region ${downUp[1]}`);
      region.server.available = downUp[2] === 'up';
      json(200, { region: region.region, healthy: region.server.available });
    } else {
      throw new ControlError(404, `no control route ${request.method} ${pathname}`);
    }
  }

  /**
   * Injects a fault of the Bedrock emulator (`region`…) or of an outside
   * provider's (`provider`…), as the control API's body gives it; throws a
   * ControlError (400) naming the field that is wrong, or the region or
   * model that no chain of the deployment calls there.
   */
  injectFault(body: unknown): unknown {
    if (typeof body === 'object' && body !== null && 'provider' in body) return this.injectProviderFault(body);
    if (typeof body === 'object' && body !== null && 'mcpServer' in body) return this.injectMcpFault(body);
    const fault = parseControl(faultRequestSchema, body);
    if (fault.probability !== undefined && fault.every !== undefined) throw new ControlError(400, 'every: not with probability (give one)');
    if (!this.regions.some((region) => region.region === fault.region)) {
      throw new ControlError(400, `region: unknown region ${fault.region} (the deployment has ${this.regions.map((region) => region.region).join(', ')})`);
    }
    // The emulator matches model ids exactly: a fault for a model no chain calls in that region would never fire.
    const models = this.modelsCalledIn(fault.region);
    if (fault.model !== undefined && !models.has(fault.model)) {
      throw new ControlError(400, `model: no chain calls ${fault.model} in ${fault.region} (it calls ${[...models].join(', ')})`);
    }
    this.emulator.injectFault(fault);
    return fault;
  }

  /** Clears the faults of every emulated model, Bedrock's and the outside providers', and of the MCP servers. */
  clearFaults(): void {
    this.emulator.clearFaults();
    this.options.mcpServers?.clearFaults();
    this.providers?.openai.clearFaults();
    this.providers?.anthropic.clearFaults();
  }

  /** A fault of an MCP server the playground serves (or it would never fire). */
  private injectMcpFault(body: unknown): z.output<typeof mcpFaultRequestSchema> {
    const rule = parseControl(mcpFaultRequestSchema, body);
    const served = this.options.mcpServers;
    if (!served || served.fail({ server: rule.mcpServer, region: rule.region, fault: rule.fault, times: rule.times }) === 0) {
      const names = served?.names() ?? [];
      throw new ControlError(
        400,
        `mcpServer: no MCP server ${rule.mcpServer}${rule.region ? ` in ${rule.region}` : ''} runs here (${names.length ? names.join(', ') : 'none: the deployment has no MCP server behind a function URL'})`,
      );
    }
    return rule;
  }

  /** A fault of an outside provider's emulator, for a model and residency that some chain calls (or it would never fire). */
  private injectProviderFault(body: unknown): z.output<typeof providerFaultRequestSchema> {
    const rule = parseControl(providerFaultRequestSchema, body);
    const called = this.regions.flatMap((region) => region.chain.filter((target) => target.provider?.name === rule.provider));
    if (!this.providers || called.length === 0) throw new ControlError(400, `provider: no chain calls ${rule.provider}`);
    const matching = called.filter(
      (target) => (rule.model ?? target.modelId) === target.modelId && (rule.residency ?? target.provider?.residency) === target.provider?.residency,
    );
    if (matching.length === 0) {
      const offered = [...new Set(called.map((target) => `${target.modelId} (${target.provider?.residency})`))].join(', ');
      throw new ControlError(
        400,
        `model, residency: no chain calls ${rule.provider} with ${rule.model ?? 'any model'} in ${rule.residency ?? 'any residency'} (it calls ${offered})`,
      );
    }
    this.providers[rule.provider].injectFault(rule);
    return rule;
  }

  /** The model ids that some region's chain calls at `region`'s Bedrock endpoint (outside providers are not Bedrock's). */
  modelsCalledIn(region: string): Set<string> {
    return new Set(
      this.regions.flatMap((candidate) => candidate.chain.filter((target) => target.region === region && !target.provider).map((target) => target.modelId)),
    );
  }

  /** Streams the request to the region and its answer back, without buffering. */
  private proxy(request: http.IncomingMessage, response: http.ServerResponse, url: URL, region: PlaygroundRegion, body?: Buffer): void {
    // Only the path and query are kept: an absolute-form or `//host/...` request target must not pick the host.
    const target = new URL(region.server.url);
    target.pathname = url.pathname;
    target.search = url.search;
    const upstream = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, { ...answer.headers, [ROUTED_TO_HEADER]: region.region });
      response.flushHeaders();
      // A region dropping the connection mid-stream cuts the client's too, rather than leaving it waiting.
      pipeline(answer, response, () => undefined);
    });
    upstream.on('error', (error) => {
      // Once the headers are out, the body is the region's stream: cut it rather than append JSON to it.
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(502, { 'content-type': 'application/json', [ROUTED_TO_HEADER]: region.region });
      response.end(JSON.stringify({ error: { code: 'region_unreachable', message: error.message } }));
    });
    response.on('close', () => upstream.destroy());
    if (body) upstream.end(body);
    else request.pipe(upstream);
  }
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SIGNED_BODY_BYTES) throw new ControlError(413, `the body is over ${MAX_SIGNED_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ControlError(400, 'the body must be JSON');
  }
}
