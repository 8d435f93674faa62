/**
 * A small Amazon Route 53 API emulator on loopback, speaking the REST/XML
 * protocol of the 2013-04-01 API for the health-check operations agentctl uses:
 * ListHealthChecks, ListTagsForResources, ChangeTagsForResource,
 * GetHealthCheckStatus and UpdateHealthCheck. The real `Route53Client` talks to
 * it through its `endpoint` option.
 *
 * Tests drive it programmatically: seed health checks (configuration, tags and
 * what each checker region sees at the endpoint), let the checkers take a
 * round of observations, make concurrent edits, inject faults (Throttling,
 * PriorRequestNotComplete, 5xx; before or after the request is applied) and
 * read back the calls it received.
 *
 * Behaviour follows the API reference where the emulator models it:
 * - Health checkers: by default two checkers in each of Route 53's eight
 *   default checker regions; each observation's StatusReport is the raw result
 *   at the endpoint ("Success: ..." / "Failure: ..."). Inverted and Disabled
 *   are applied by Route 53 after aggregating observations, so they do not
 *   change what checkers report.
 * - GetHealthCheckStatus is refused for CALCULATED health checks, as the API
 *   reference says it cannot be used for them (the exact error is not
 *   documented; InvalidInput is an assumption).
 * - UpdateHealthCheck with a HealthCheckVersion that is not the current one
 *   fails with 409 HealthCheckVersionMismatch; every accepted update adds one
 *   to the version.
 * - Requests must carry a SigV4 Authorization header (the signature itself is
 *   not verified); the credential scope's region is recorded with each call.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { listen } from './listen';

const XML_NAMESPACE = 'https://route53.amazonaws.com/doc/2013-04-01/';

/** Route 53's default health-checker regions, used when a health check names none. */
export const DEFAULT_CHECKER_REGIONS = [
  'us-east-1',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'sa-east-1',
] as const;

const CHECKERS_PER_REGION = 2;
const LIST_HEALTH_CHECKS_MAX_ITEMS = 1000;
const LIST_TAGS_MAX_RESOURCES = 10;

export type Route53Operation = 'ListHealthChecks' | 'ListTagsForResources' | 'ChangeTagsForResource' | 'GetHealthCheckStatus' | 'UpdateHealthCheck';

export type HealthCheckType = 'HTTP' | 'HTTPS' | 'HTTP_STR_MATCH' | 'HTTPS_STR_MATCH' | 'TCP' | 'CALCULATED' | 'CLOUDWATCH_METRIC' | 'RECOVERY_CONTROL';

/**
 * What the health checkers see at the endpoint: every checker succeeds, every
 * checker fails, or only the checkers in the listed regions succeed.
 */
export type EndpointBehaviour = 'healthy' | 'failing' | { readonly healthyFrom: readonly string[] };

export interface HealthCheckSeed {
  /** @default - a random UUID, as Route 53 assigns */
  readonly id?: string;
  /** @default 'HTTPS' */
  readonly type?: HealthCheckType;
  readonly fullyQualifiedDomainName?: string;
  /** @default '/health' for HTTP(S) types */
  readonly resourcePath?: string;
  /** @default 443 for HTTPS types, 80 for HTTP types */
  readonly port?: number;
  /** @default 30 */
  readonly requestInterval?: number;
  /** @default 3 */
  readonly failureThreshold?: number;
  /** @default false */
  readonly inverted?: boolean;
  /** @default false */
  readonly disabled?: boolean;
  /** Children of a CALCULATED health check. */
  readonly childHealthChecks?: readonly string[];
  /** Healthy children a CALCULATED health check needs. @default - all children */
  readonly healthThreshold?: number;
  /** Checker regions. @default DEFAULT_CHECKER_REGIONS */
  readonly regions?: readonly string[];
  /** @default - no tags */
  readonly tags?: Readonly<Record<string, string>>;
  /** @default 'healthy' */
  readonly endpoint?: EndpointBehaviour;
}

/** An edit made outside the CLI (another operator, CloudFormation). */
export interface HealthCheckEdit {
  readonly inverted?: boolean;
  readonly disabled?: boolean;
}

export interface CheckerObservation {
  readonly region: string;
  readonly ipAddress: string;
  readonly status: string;
  readonly checkedTime: Date;
}

export interface HealthCheckSnapshot {
  readonly id: string;
  readonly version: number;
  readonly type: HealthCheckType;
  readonly inverted: boolean;
  readonly disabled: boolean;
  readonly childHealthChecks: readonly string[];
  readonly healthThreshold?: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly observations: readonly CheckerObservation[];
}

export type FaultError = 'Throttling' | 'PriorRequestNotComplete' | 500 | 502 | 503;

export interface Fault {
  /** The error answered: a Route 53 error code (HTTP 400) or a 5xx status. */
  readonly error: FaultError;
  /** @default - any operation */
  readonly operation?: Route53Operation;
  /** How many matching requests fail. @default 1 */
  readonly times?: number;
  /** Process the request first, then answer the error: the change is made and only its answer is lost. @default false */
  readonly afterApplying?: boolean;
}

export interface RecordedCall {
  readonly operation: Route53Operation | 'Unknown';
  readonly method: string;
  readonly path: string;
  /** The health check named in the path, if any. */
  readonly healthCheckId?: string;
  /** The parsed XML body (its root element's content), if any. */
  readonly body?: unknown;
  readonly status: number;
  /** The region of the SigV4 credential scope the request was signed for. */
  readonly signingRegion?: string;
}

interface StoredHealthCheck {
  readonly id: string;
  readonly callerReference: string;
  readonly type: HealthCheckType;
  readonly fullyQualifiedDomainName?: string;
  readonly resourcePath?: string;
  readonly port?: number;
  readonly requestInterval: number;
  readonly failureThreshold: number;
  readonly childHealthChecks: readonly string[];
  readonly healthThreshold?: number;
  readonly regions: readonly string[];
  version: number;
  inverted: boolean;
  disabled: boolean;
  endpoint: EndpointBehaviour;
  tags: Map<string, string>;
  observations: CheckerObservation[];
}

interface ParsedRequest {
  readonly operation: Route53Operation | 'Unknown';
  readonly healthCheckId?: string;
  readonly resourceType?: string;
}

/** An error answered in Route 53's XML error envelope. */
class Route53Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}

const ENDPOINT_CHECK_TYPES: readonly HealthCheckType[] = ['HTTP', 'HTTPS', 'HTTP_STR_MATCH', 'HTTPS_STR_MATCH', 'TCP'];
/** Lists in request bodies (by parent and member name), so a single member still parses as an array. */
const REQUEST_LIST_PATHS = ['.ResourceIds.ResourceId', '.AddTags.Tag', '.RemoveTagKeys.Key'];
const UPDATE_FIELDS_SUPPORTED = new Set(['HealthCheckVersion', 'Inverted', 'Disabled']);

export class Route53Emulator {
  /** Starts the emulator on 127.0.0.1 with an ephemeral port. */
  static async start(): Promise<Route53Emulator> {
    const emulator = new Route53Emulator();
    emulator.endpoint = await listen(emulator.server, 0, '127.0.0.1');
    return emulator;
  }

  /** The URL to pass as the Route53Client's `endpoint`. */
  endpoint = '';

  private readonly server: http.Server;
  private readonly healthChecks = new Map<string, StoredHealthCheck>();
  private readonly faults: Array<{ fault: Fault; remaining: number }> = [];
  private readonly interceptors: Array<{ operation: Route53Operation; action: () => void }> = [];
  private readonly recordedCalls: RecordedCall[] = [];
  private lastCheckedTime = 0;
  private readonly parser = new XMLParser({
    parseTagValue: false,
    isArray: (_name, jPath) => REQUEST_LIST_PATHS.some((path) => String(jPath).endsWith(path)),
  });
  private readonly builder = new XMLBuilder({ ignoreAttributes: false });

  private constructor() {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
  }

  /** Every request received, oldest first. */
  get calls(): readonly RecordedCall[] {
    return [...this.recordedCalls];
  }

  /** The calls of one operation, oldest first. */
  callsTo(operation: Route53Operation): RecordedCall[] {
    return this.recordedCalls.filter((call) => call.operation === operation);
  }

  clearCalls(): void {
    this.recordedCalls.length = 0;
  }

  /** Creates a health check; its checkers take a first round of observations at once. Returns its id. */
  addHealthCheck(seed: HealthCheckSeed = {}): string {
    const id = seed.id ?? randomUUID();
    if (this.healthChecks.has(id)) throw new Error(`Health check ${id} already exists`);
    const type = seed.type ?? 'HTTPS';
    const isHttp = type.startsWith('HTTP');
    for (const child of seed.childHealthChecks ?? []) {
      if (!this.healthChecks.has(child)) throw new Error(`Child health check ${child} does not exist`);
    }
    const stored: StoredHealthCheck = {
      id,
      callerReference: randomUUID(),
      type,
      fullyQualifiedDomainName: seed.fullyQualifiedDomainName,
      resourcePath: seed.resourcePath ?? (isHttp ? '/health' : undefined),
      port: seed.port ?? (type.startsWith('HTTPS') ? 443 : isHttp ? 80 : undefined),
      requestInterval: seed.requestInterval ?? 30,
      failureThreshold: seed.failureThreshold ?? 3,
      childHealthChecks: [...(seed.childHealthChecks ?? [])],
      healthThreshold: type === 'CALCULATED' ? (seed.healthThreshold ?? seed.childHealthChecks?.length ?? 0) : undefined,
      regions: [...(seed.regions ?? DEFAULT_CHECKER_REGIONS)],
      version: 1,
      inverted: seed.inverted ?? false,
      disabled: seed.disabled ?? false,
      endpoint: seed.endpoint ?? 'healthy',
      tags: new Map(Object.entries(seed.tags ?? {})),
      observations: [],
    };
    this.healthChecks.set(id, stored);
    this.observe(stored);
    return id;
  }

  /** Changes what the checkers will see at the endpoint from their next round on. */
  setEndpoint(id: string, endpoint: EndpointBehaviour): void {
    this.require(id).endpoint = endpoint;
  }

  /**
   * The checkers take an observation now: every checker, or only those in the
   * given checker regions (Route 53's checkers do not run in step).
   */
  runCheckers(checkerRegions?: readonly string[]): void {
    for (const stored of this.healthChecks.values()) this.observe(stored, checkerRegions);
  }

  /** Edits a health check as someone else would (the version goes up by one). */
  editHealthCheck(id: string, edit: HealthCheckEdit): void {
    const stored = this.require(id);
    if (edit.inverted !== undefined) stored.inverted = edit.inverted;
    if (edit.disabled !== undefined) stored.disabled = edit.disabled;
    stored.version += 1;
  }

  healthCheck(id: string): HealthCheckSnapshot {
    const stored = this.require(id);
    return {
      id: stored.id,
      version: stored.version,
      type: stored.type,
      inverted: stored.inverted,
      disabled: stored.disabled,
      childHealthChecks: stored.childHealthChecks,
      healthThreshold: stored.healthThreshold,
      tags: Object.fromEntries(stored.tags),
      observations: [...stored.observations],
    };
  }

  /** Makes matching requests fail (faults are used in the order they were injected). */
  injectFault(fault: Fault): void {
    this.faults.push({ fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /**
   * Runs `action` just before the next request of `operation` is processed, e.g.
   * another operator's edit landing between the CLI's read and its update.
   */
  beforeNext(operation: Route53Operation, action: () => void): void {
    this.interceptors.push({ operation, action });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private require(id: string): StoredHealthCheck {
    const stored = this.healthChecks.get(id);
    if (!stored) throw new Error(`No health check ${id}`);
    return stored;
  }

  private observe(stored: StoredHealthCheck, checkerRegions?: readonly string[]): void {
    if (!ENDPOINT_CHECK_TYPES.includes(stored.type) && stored.type !== 'CLOUDWATCH_METRIC') return;
    // Strictly increasing, so that a later round is always newer even within one millisecond.
    const checkedTime = new Date(Math.max(Date.now(), this.lastCheckedTime + 1));
    this.lastCheckedTime = checkedTime.getTime();
    const previous = new Map(stored.observations.map((observation) => [observation.ipAddress, observation]));
    stored.observations = stored.regions.flatMap((region, regionIndex) =>
      Array.from({ length: CHECKERS_PER_REGION }, (_, checker) => {
        const ipAddress = `15.177.${regionIndex}.${checker + 1}`;
        const kept = checkerRegions && !checkerRegions.includes(region) ? previous.get(ipAddress) : undefined;
        return kept ?? { region, ipAddress, status: this.checkerSees(stored, region), checkedTime };
      }),
    );
  }

  private checkerSees(stored: StoredHealthCheck, region: string): string {
    const { endpoint } = stored;
    const healthy = endpoint === 'healthy' || (typeof endpoint === 'object' && endpoint.healthyFrom.includes(region));
    if (stored.type === 'CLOUDWATCH_METRIC') {
      return healthy ? 'Success: Alarm state is OK' : 'Failure: Alarm state is ALARM';
    }
    return healthy ? 'Success: HTTP Status Code 200, OK' : 'Failure: HTTP Status Code 503, Service Unavailable';
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const parsed = parseRoute(method, url.pathname);
    const signingRegion = /Credential=[^/]+\/\d{8}\/([^/]+)\/route53\/aws4_request/.exec(request.headers.authorization ?? '')?.[1];

    let body: Record<string, unknown> | undefined;
    let status = 200;
    let xml: string;
    try {
      if (!signingRegion) {
        throw new Route53Error(403, 'MissingAuthenticationToken', 'Request is missing a SigV4 Authorization header for route53');
      }
      if (rawBody) body = this.parseBody(rawBody);
      this.runInterceptors(parsed.operation);
      this.raiseInjectedFault(parsed.operation, false);
      xml = this.dispatch(parsed, url.searchParams, body ?? {});
      this.raiseInjectedFault(parsed.operation, true);
    } catch (error) {
      if (!(error instanceof Route53Error)) throw error;
      status = error.status;
      xml = this.errorXml(error);
    }
    this.recordedCalls.push({
      operation: parsed.operation,
      method,
      path: url.pathname,
      healthCheckId: parsed.healthCheckId,
      body,
      status,
      signingRegion,
    });
    response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    response.end(xml);
  }

  private parseBody(rawBody: string): Record<string, unknown> {
    let document: Record<string, unknown>;
    try {
      document = this.parser.parse(rawBody, true) as Record<string, unknown>;
    } catch (error) {
      throw new Route53Error(400, 'InvalidInput', `Malformed XML: ${(error as Error).message}`);
    }
    const root = Object.keys(document).find((key) => key !== '?xml');
    const content = root ? document[root] : undefined;
    return typeof content === 'object' && content !== null ? (content as Record<string, unknown>) : {};
  }

  private runInterceptors(operation: Route53Operation | 'Unknown'): void {
    const index = this.interceptors.findIndex((interceptor) => interceptor.operation === operation);
    if (index >= 0) this.interceptors.splice(index, 1)[0].action();
  }

  private raiseInjectedFault(operation: Route53Operation | 'Unknown', afterApplying: boolean): void {
    const entry = this.faults.find(
      ({ fault }) => (fault.operation === undefined || fault.operation === operation) && (fault.afterApplying ?? false) === afterApplying,
    );
    if (!entry) return;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.faults.splice(this.faults.indexOf(entry), 1);
    const { error } = entry.fault;
    if (error === 'Throttling') throw new Route53Error(400, 'Throttling', 'Rate exceeded');
    if (error === 'PriorRequestNotComplete') {
      throw new Route53Error(400, 'PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.');
    }
    throw new Route53Error(error, error === 503 ? 'ServiceUnavailable' : 'InternalFailure', 'The service encountered an internal error');
  }

  private dispatch(request: ParsedRequest, query: URLSearchParams, body: Record<string, unknown>): string {
    switch (request.operation) {
      case 'ListHealthChecks':
        return this.listHealthChecks(query);
      case 'ListTagsForResources':
        return this.listTagsForResources(request.resourceType, body);
      case 'ChangeTagsForResource':
        return this.changeTagsForResource(request.resourceType, request.healthCheckId, body);
      case 'GetHealthCheckStatus':
        return this.getHealthCheckStatus(this.find(request.healthCheckId));
      case 'UpdateHealthCheck':
        return this.updateHealthCheck(this.find(request.healthCheckId), body);
      default:
        throw new Route53Error(400, 'InvalidAction', 'The emulator does not implement this operation');
    }
  }

  private find(id: string | undefined): StoredHealthCheck {
    const stored = id === undefined ? undefined : this.healthChecks.get(id);
    if (!stored) throw new Route53Error(404, 'NoSuchHealthCheck', `A health check with id ${id} does not exist.`);
    return stored;
  }

  private listHealthChecks(query: URLSearchParams): string {
    const all = [...this.healthChecks.values()];
    const marker = query.get('marker');
    const requested = query.has('maxitems') ? Number(query.get('maxitems')) : 100;
    if (!Number.isInteger(requested) || requested < 1) throw new Route53Error(400, 'InvalidInput', 'MaxItems must be a positive integer');
    const maxItems = Math.min(requested, LIST_HEALTH_CHECKS_MAX_ITEMS);
    const start = marker ? all.findIndex((stored) => stored.id === marker) : 0;
    if (start < 0) throw new Route53Error(400, 'InvalidInput', `Invalid marker ${marker}`);
    const page = all.slice(start, start + maxItems);
    const next = all[start + maxItems];
    return this.xml('ListHealthChecksResponse', {
      HealthChecks: { HealthCheck: page.map((stored) => this.healthCheckXml(stored)) },
      Marker: marker ?? '',
      IsTruncated: next !== undefined,
      ...(next ? { NextMarker: next.id } : {}),
      MaxItems: maxItems,
    });
  }

  private listTagsForResources(resourceType: string | undefined, body: Record<string, unknown>): string {
    requireHealthCheckResourceType(resourceType);
    const ids = asStrings((body.ResourceIds as { ResourceId?: unknown } | undefined)?.ResourceId);
    if (ids.length === 0 || ids.length > LIST_TAGS_MAX_RESOURCES) {
      throw new Route53Error(400, 'InvalidInput', `ResourceIds must name 1 to ${LIST_TAGS_MAX_RESOURCES} resources, got ${ids.length}`);
    }
    const sets = ids.map((id) => ({
      ResourceType: 'healthcheck',
      ResourceId: id,
      Tags: { Tag: [...this.find(id).tags].map(([Key, Value]) => ({ Key, Value })) },
    }));
    return this.xml('ListTagsForResourcesResponse', { ResourceTagSets: { ResourceTagSet: sets } });
  }

  private changeTagsForResource(resourceType: string | undefined, id: string | undefined, body: Record<string, unknown>): string {
    requireHealthCheckResourceType(resourceType);
    const stored = this.find(id);
    const added = ((body.AddTags as { Tag?: unknown[] } | undefined)?.Tag ?? []) as Array<{ Key?: string; Value?: string }>;
    const removed = asStrings((body.RemoveTagKeys as { Key?: unknown } | undefined)?.Key);
    for (const tag of added) {
      if (!tag.Key) throw new Route53Error(400, 'InvalidInput', 'Every tag needs a Key');
      stored.tags.set(tag.Key, tag.Value ?? '');
    }
    for (const key of removed) stored.tags.delete(key);
    return this.xml('ChangeTagsForResourceResponse', {});
  }

  private getHealthCheckStatus(stored: StoredHealthCheck): string {
    if (stored.type === 'CALCULATED' || stored.type === 'RECOVERY_CONTROL') {
      throw new Route53Error(400, 'InvalidInput', `GetHealthCheckStatus does not support ${stored.type} health checks`);
    }
    return this.xml('GetHealthCheckStatusResponse', {
      HealthCheckObservations: {
        HealthCheckObservation: stored.observations.map((observation) => ({
          Region: observation.region,
          IPAddress: observation.ipAddress,
          StatusReport: { Status: observation.status, CheckedTime: observation.checkedTime.toISOString() },
        })),
      },
    });
  }

  private updateHealthCheck(stored: StoredHealthCheck, body: Record<string, unknown>): string {
    const unsupported = Object.keys(body).filter((key) => !UPDATE_FIELDS_SUPPORTED.has(key));
    if (unsupported.length > 0) {
      throw new Route53Error(400, 'InvalidInput', `The emulator does not update ${unsupported.join(', ')}`);
    }
    if (body.HealthCheckVersion !== undefined && Number(body.HealthCheckVersion) !== stored.version) {
      throw new Route53Error(
        409,
        'HealthCheckVersionMismatch',
        `The value of HealthCheckVersion in the request (${String(body.HealthCheckVersion)}) doesn't match the current version (${stored.version}).`,
      );
    }
    const inverted = parseBoolean(body.Inverted, 'Inverted');
    const disabled = parseBoolean(body.Disabled, 'Disabled');
    if (inverted !== undefined) stored.inverted = inverted;
    if (disabled !== undefined) stored.disabled = disabled;
    stored.version += 1;
    return this.xml('UpdateHealthCheckResponse', { HealthCheck: this.healthCheckXml(stored) });
  }

  private healthCheckXml(stored: StoredHealthCheck): Record<string, unknown> {
    const isCalculated = stored.type === 'CALCULATED';
    return {
      Id: stored.id,
      CallerReference: stored.callerReference,
      HealthCheckConfig: {
        ...(stored.port !== undefined ? { Port: stored.port } : {}),
        Type: stored.type,
        ...(stored.resourcePath !== undefined ? { ResourcePath: stored.resourcePath } : {}),
        ...(stored.fullyQualifiedDomainName !== undefined ? { FullyQualifiedDomainName: stored.fullyQualifiedDomainName } : {}),
        ...(isCalculated ? {} : { RequestInterval: stored.requestInterval, FailureThreshold: stored.failureThreshold }),
        MeasureLatency: false,
        Inverted: stored.inverted,
        Disabled: stored.disabled,
        ...(isCalculated ? { HealthThreshold: stored.healthThreshold, ChildHealthChecks: { ChildHealthCheck: [...stored.childHealthChecks] } } : {}),
        ...(ENDPOINT_CHECK_TYPES.includes(stored.type) ? { Regions: { Region: [...stored.regions] } } : {}),
      },
      HealthCheckVersion: stored.version,
    };
  }

  private xml(root: string, content: Record<string, unknown>): string {
    return this.builder.build({
      '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
      [root]: { '@_xmlns': XML_NAMESPACE, ...content },
    }) as string;
  }

  private errorXml(error: Route53Error): string {
    return this.xml('ErrorResponse', {
      Error: { Type: error.type, Code: error.code, Message: error.message },
      RequestId: randomUUID(),
    });
  }
}

function parseRoute(method: string, pathname: string): ParsedRequest {
  const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (segments[0] !== '2013-04-01') return { operation: 'Unknown' };
  const [, collection, first, second] = segments;
  if (collection === 'healthcheck') {
    if (method === 'GET' && first === undefined) return { operation: 'ListHealthChecks' };
    if (method === 'GET' && second === 'status') return { operation: 'GetHealthCheckStatus', healthCheckId: first };
    if (method === 'POST' && first !== undefined && second === undefined) return { operation: 'UpdateHealthCheck', healthCheckId: first };
  }
  if (collection === 'tags' && method === 'POST') {
    if (second === undefined) return { operation: 'ListTagsForResources', resourceType: first };
    return { operation: 'ChangeTagsForResource', resourceType: first, healthCheckId: second };
  }
  return { operation: 'Unknown' };
}

function requireHealthCheckResourceType(resourceType: string | undefined): void {
  if (resourceType !== 'healthcheck') {
    throw new Route53Error(400, 'InvalidInput', `The emulator only holds healthcheck resources, not ${resourceType}`);
  }
}

function asStrings(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function parseBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Route53Error(400, 'InvalidInput', `${field} must be true or false`);
}
