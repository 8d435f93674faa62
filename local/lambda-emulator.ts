/**
 * An AWS Lambda Invoke API emulator on loopback: `POST
 * /2015-03-31/functions/{FunctionName}/invocations`, answered as Lambda
 * answers the real @aws-sdk/client-lambda `InvokeCommand` (its `endpoint`
 * pointed here, any credentials). Functions are handlers registered in
 * process, so tests of Lambda tools run the tool's code for real.
 *
 * As Lambda does:
 * - FunctionName is a name, a partial ARN (`123456789012:function:name`) or a
 *   full ARN, each with an optional `:qualifier` (or the `Qualifier` query);
 *   a function registered without a qualifier serves every qualifier;
 * - the function lives in one region: the region the request is signed for
 *   (its SigV4 credential scope) must be the one of a registered ARN, and of
 *   an ARN invoked, so that residency tests see a cross-region call fail;
 * - a handler that throws, or runs past its timeout, is a function error:
 *   200 with `X-Amz-Function-Error: Unhandled` and the error document the
 *   Node.js runtime writes (`errorType`, `errorMessage`, `trace`);
 * - `X-Amz-Invocation-Type: Event` answers 202 and runs the handler in the
 *   background, `DryRun` answers 204 without running it;
 * - service errors are restJson1 errors: `x-amzn-errortype` and a JSON body
 *   with the members the SDK's deserializer reads (`Type`, `Message` or
 *   `message`, as each error shape spells it).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { FaultRules } from './fault-rules';
import { listen } from './listen';

/** What a handler gets as its context: the fields of Lambda's Node.js context that tools use. */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  /** The client context a caller sent (`ClientContext`, base64 JSON), decoded. */
  clientContext?: unknown;
  /** Milliseconds left before the function's timeout. */
  getRemainingTimeInMillis(): number;
}

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown> | unknown;

export interface RegisterOptions {
  /** The function's timeout. @default 3000 (Lambda's default) */
  timeoutMs?: number;
}

export type LambdaFault =
  /** Lambda itself refuses the call with this status (default error types: 429 TooManyRequestsException, 500 ServiceException, …). */
  | { status: number; errorType?: string; message?: string }
  /** The call waits this long before the function runs (a cold start, a slow network). */
  | { delayMs: number };

export interface LambdaFaultRule {
  /** The function's name, or any ARN of it. */
  functionName: string;
  fault: LambdaFault;
  /** Applies to the next N calls of the function only; until cleared when omitted. */
  times?: number;
}

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

/** A call as Lambda answered it (recorded once answered; an Event call's functionError is filled in when its function ends). */
export interface LambdaCall {
  functionName: string;
  qualifier?: string;
  /** The region the request was signed for. */
  region: string;
  invocationType: InvocationType;
  /** The event as parsed JSON; undefined when the body was not JSON. */
  payload: unknown;
  /** The HTTP status Lambda answered. */
  status: number;
  /** Set when the function failed (threw or timed out). */
  functionError?: 'Unhandled';
  requestId: string;
  at: number;
}

export interface LambdaEmulatorOptions {
  /** @default 127.0.0.1 */
  host?: string;
  /** @default an ephemeral port */
  port?: number;
  /** The account of functions registered or invoked by name. @default 123456789012 */
  accountId?: string;
  /** The region of unsigned requests (curl). @default us-east-1 */
  defaultRegion?: string;
}

/** Lambda's synchronous request and response payload limit. */
const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 3000;

/** The error type Lambda answers for each status a fault may inject. */
const ERROR_TYPE_BY_STATUS: Record<number, string | undefined> = {
  400: 'InvalidParameterValueException',
  404: 'ResourceNotFoundException',
  409: 'ResourceConflictException',
  413: 'RequestTooLargeException',
  429: 'TooManyRequestsException',
  500: 'ServiceException',
  502: 'ResourceNotReadyException',
};
/** The error shapes whose message member is `Message`; the others spell it `message`. */
const CAPITALIZED_MESSAGE = new Set(['ResourceNotFoundException', 'ServiceException']);

/** The FunctionName pattern of the Invoke API. */
const FUNCTION_NAME_PATTERN =
  /^(?:arn:(aws[a-zA-Z-]*):lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9_.-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;

interface FunctionRef {
  name: string;
  partition?: string;
  region?: string;
  account?: string;
  qualifier?: string;
}

function parseFunctionRef(value: string): FunctionRef | undefined {
  const match = FUNCTION_NAME_PATTERN.exec(value);
  if (!match || (match[1] !== undefined && match[3] === undefined)) return undefined;
  const [, partition, region, account, name, qualifier] = match;
  return { name, partition, region, account, qualifier };
}

interface RegisteredFunction {
  ref: FunctionRef;
  handler: LambdaHandler;
  timeoutMs: number;
}

/** A call's function: the registration, and the name and ARN it was invoked by. */
interface Target {
  fn: RegisteredFunction;
  ref: FunctionRef;
  arn: string;
}

class InvokeError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class LambdaEmulator {
  static async start(options: LambdaEmulatorOptions = {}): Promise<LambdaEmulator> {
    const emulator = new LambdaEmulator(options);
    emulator.endpoint = await listen(emulator.server, options.port ?? 0, options.host ?? '127.0.0.1');
    return emulator;
  }

  /** Base URL of the emulated Lambda API. */
  endpoint = '';
  private readonly server: http.Server;
  private readonly accountId: string;
  private readonly defaultRegion: string;
  private readonly functions: RegisteredFunction[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly faults = new FaultRules<LambdaFaultRule>();
  private recorded: LambdaCall[] = [];

  private constructor(options: LambdaEmulatorOptions) {
    this.accountId = options.accountId ?? '123456789012';
    this.defaultRegion = options.defaultRegion ?? 'us-east-1';
    this.server = http.createServer((request, response) => void this.handle(request, response));
  }

  /** Registers a function by name or ARN, replacing one registered the same way; answers its full ARN (without qualifier). */
  register(functionArnOrName: string, handler: LambdaHandler, options: RegisterOptions = {}): string {
    const ref = parseFunctionRef(functionArnOrName);
    if (!ref) throw new Error(`LambdaEmulator cannot register ${functionArnOrName}: not a function name or ARN`);
    const same = (other: FunctionRef) => (['name', 'region', 'account', 'qualifier'] as const).every((key) => other[key] === ref[key]);
    const existing = this.functions.findIndex((fn) => same(fn.ref));
    if (existing >= 0) this.functions.splice(existing, 1);
    this.functions.push({ ref, handler, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    return this.arnOf({ ...ref, qualifier: undefined }, ref.region ?? this.defaultRegion);
  }

  injectFault(rule: LambdaFaultRule): void {
    if (!parseFunctionRef(rule.functionName)) throw new Error(`fault functionName ${rule.functionName} is not a function name or ARN`);
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  calls(filter: { functionName?: string; region?: string } = {}): LambdaCall[] {
    return this.recorded.filter(
      (call) =>
        (filter.functionName === undefined || call.functionName === filter.functionName) && (filter.region === undefined || call.region === filter.region),
    );
  }

  clearCalls(): void {
    this.recorded = [];
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private arnOf(ref: FunctionRef, region: string): string {
    const qualifier = ref.qualifier ? `:${ref.qualifier}` : '';
    return `arn:${ref.partition ?? 'aws'}:lambda:${ref.region ?? region}:${ref.account ?? this.accountId}:function:${ref.name}${qualifier}`;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\/lambda\/aws4_request/.exec(request.headers.authorization ?? '')?.[1] ?? this.defaultRegion;
    const body = await readBody(request);
    if (request.method !== 'POST' || !route) {
      writeError(response, requestId, new InvokeError(404, 'UnknownOperationException', `No route for ${request.method} ${url.pathname}`));
      return;
    }
    const invocationType = (request.headers['x-amz-invocation-type'] ?? 'RequestResponse') as InvocationType;
    const functionName = decodeURIComponent(route[1]);
    const call: LambdaCall = { functionName, region, invocationType, payload: undefined, status: 200, requestId, at: Date.now() };
    try {
      const target = this.resolve(functionName, url.searchParams.get('Qualifier') ?? undefined, region);
      call.functionName = target.ref.name;
      call.qualifier = target.ref.qualifier;
      if (body.length > PAYLOAD_LIMIT_BYTES) {
        throw new InvokeError(413, 'RequestTooLargeException', `Request must be smaller than ${PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`);
      }
      call.payload = parsePayload(body, invocationType);
      await this.applyFault(target.ref.name);
      await this.invoke(target, call, request, response);
    } catch (error) {
      const failure = error instanceof InvokeError ? error : new InvokeError(500, 'ServiceException', (error as Error).message);
      call.status = failure.status;
      if (!response.headersSent) writeError(response, requestId, failure);
    } finally {
      this.recorded.push(call);
    }
  }

  /** The registered function a FunctionName (and Qualifier) names, in the region the request was signed for. */
  private resolve(functionName: string, qualifierParam: string | undefined, region: string): Target {
    const ref = parseFunctionRef(functionName);
    if (!ref) {
      throw new InvokeError(
        400,
        'ValidationException',
        `1 validation error detected: Value '${functionName}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN.source}`,
      );
    }
    if (ref.qualifier !== undefined && qualifierParam !== undefined && ref.qualifier !== qualifierParam) {
      throw new InvokeError(400, 'InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
    }
    const invoked = { ...ref, qualifier: ref.qualifier ?? qualifierParam };
    if (invoked.region !== undefined && invoked.region !== region) {
      throw new InvokeError(404, 'ResourceNotFoundException', `Functions from '${invoked.region}' are not reachable in this region ('${region}')`);
    }
    const fn = this.functions.find(
      (candidate) =>
        candidate.ref.name === invoked.name &&
        (candidate.ref.region ?? region) === region &&
        (candidate.ref.account ?? this.accountId) === (invoked.account ?? this.accountId) &&
        (candidate.ref.qualifier === undefined || candidate.ref.qualifier === invoked.qualifier),
    );
    const arn = this.arnOf(invoked, region);
    if (!fn) throw new InvokeError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    return { fn, ref: invoked, arn };
  }

  private async applyFault(functionName: string): Promise<void> {
    const rule = this.faults.take((candidate) => parseFunctionRef(candidate.functionName)?.name === functionName);
    if (!rule) return;
    if ('delayMs' in rule.fault) {
      await this.sleep(rule.fault.delayMs);
      return;
    }
    const errorType = rule.fault.errorType ?? ERROR_TYPE_BY_STATUS[rule.fault.status] ?? 'ServiceException';
    const message = rule.fault.message ?? (errorType === 'TooManyRequestsException' ? 'Rate Exceeded.' : `Emulated ${rule.fault.status} from Lambda`);
    const extra = errorType === 'TooManyRequestsException' ? { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' } : {};
    const headers: Record<string, string> = errorType === 'TooManyRequestsException' ? { 'retry-after': '1' } : {};
    throw new InvokeError(rule.fault.status, errorType, message, extra, headers);
  }

  private async invoke(target: Target, call: LambdaCall, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (call.invocationType === 'DryRun') {
      call.status = 204;
      response.writeHead(204, { 'x-amzn-requestid': call.requestId }).end();
      return;
    }
    if (call.invocationType === 'Event') {
      call.status = 202;
      response.writeHead(202, { 'x-amzn-requestid': call.requestId }).end();
      // The caller has its answer; the recorded call learns later whether the function failed.
      void this.run(target, call, request).then((outcome) => {
        if (outcome.functionError) call.functionError = 'Unhandled';
      });
      return;
    }
    const headers = {
      'x-amzn-requestid': call.requestId,
      'x-amz-executed-version': /^\d+$/.test(target.ref.qualifier ?? '') ? target.ref.qualifier! : '$LATEST',
    };
    const started = Date.now();
    const outcome = await this.run(target, call, request);
    const logHeader: Record<string, string> =
      request.headers['x-amz-log-type'] === 'Tail' ? { 'x-amz-log-result': Buffer.from(tailLog(call.requestId, Date.now() - started)).toString('base64') } : {};
    if (outcome.functionError) call.functionError = 'Unhandled';
    const errorHeader: Record<string, string> = outcome.functionError ? { 'x-amz-function-error': 'Unhandled' } : {};
    response.writeHead(200, { ...headers, ...logHeader, ...errorHeader, 'content-type': 'application/json' }).end(outcome.payload);
  }

  /** Runs the handler as the Node.js runtime does: its result as JSON, or its error as the runtime's error document. */
  private async run(target: Target, call: LambdaCall, request: http.IncomingMessage): Promise<{ payload: string; functionError: boolean }> {
    const deadline = Date.now() + target.fn.timeoutMs;
    const context: LambdaContext = {
      awsRequestId: call.requestId,
      functionName: target.fn.ref.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: target.arn,
      memoryLimitInMB: '128',
      logGroupName: `/aws/lambda/${target.fn.ref.name}`,
      logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${call.requestId.replace(/-/g, '')}`,
      callbackWaitsForEmptyEventLoop: true,
      clientContext: decodeClientContext(request.headers['x-amz-client-context']),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), target.fn.timeoutMs);
      this.timers.add(timer);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => target.fn.handler(call.payload ?? {}, context)), timedOut]);
      if (result === 'timeout') {
        const seconds = (target.fn.timeoutMs / 1000).toFixed(2);
        return {
          payload: JSON.stringify({
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${call.requestId} Error: Task timed out after ${seconds} seconds`,
          }),
          functionError: true,
        };
      }
      const payload = JSON.stringify(result ?? null);
      if (Buffer.byteLength(payload) > PAYLOAD_LIMIT_BYTES) {
        const errorMessage = `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT_BYTES + 100} bytes).`;
        return { payload: JSON.stringify({ errorType: 'Function.ResponseSizeTooLarge', errorMessage }), functionError: true };
      }
      return { payload, functionError: false };
    } catch (error) {
      return { payload: JSON.stringify(errorDocument(error)), functionError: true };
    } finally {
      clearTimeout(timer);
      this.timers.delete(timer!);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The event: Lambda refuses a body that is not JSON before any function runs. */
function parsePayload(body: Buffer, invocationType: InvocationType): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    if (invocationType === 'DryRun') return undefined;
    throw new InvokeError(
      400,
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`,
    );
  }
}

function decodeClientContext(header: string | string[] | undefined): unknown {
  if (typeof header !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** What the Node.js runtime writes for an error a handler throws (or rejects with). */
function errorDocument(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (error instanceof Error) return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

/** The platform lines of an invocation's log, as `LogType: Tail` returns them (a handler's own output is not captured). */
function tailLog(requestId: string, durationMs: number): string {
  return (
    `START RequestId: ${requestId} Version: $LATEST\n` +
    `END RequestId: ${requestId}\n` +
    `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\t\n`
  );
}

function writeError(response: http.ServerResponse, requestId: string, error: InvokeError): void {
  const messageKey = CAPITALIZED_MESSAGE.has(error.errorType) ? 'Message' : 'message';
  const body = { Type: error.status >= 500 ? 'Service' : 'User', [messageKey]: error.message, ...error.extra };
  response
    .writeHead(error.status, { ...error.headers, 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.errorType })
    .end(JSON.stringify(body));
}
