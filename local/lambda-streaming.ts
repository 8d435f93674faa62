/**
 * A local stand-in for Lambda response streaming behind API Gateway: the
 * `awslambda` global that the Node.js managed runtime provides
 * (`streamifyResponse`, `HttpResponseStream.from`, which writes a JSON
 * prelude and eight NUL bytes before the body), and an HTTP server that turns
 * each request into a REST proxy event, invokes the handler and turns the
 * prelude back into a status line and headers, streaming the body as it
 * comes. It runs the bundle `cdk synth` produced, unmodified.
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { DEFAULT_PRINCIPAL, PRINCIPAL_HEADER } from './agent-server';
import { listen } from './listen';

const PRELUDE_DELIMITER = Buffer.alloc(8);

type StreamingHandler = (event: APIGatewayProxyEvent, responseStream: Writable, context: Context) => Promise<void>;

/** Defines the `awslambda` global as the managed Node.js runtime does. */
export function installAwslambdaGlobal(): void {
  (globalThis as unknown as { awslambda: unknown }).awslambda = {
    streamifyResponse: (handler: StreamingHandler) => handler,
    HttpResponseStream: {
      from(stream: Writable, metadata: { statusCode: number; headers?: Record<string, string> }): Writable {
        stream.write(JSON.stringify(metadata));
        stream.write(PRELUDE_DELIMITER);
        return stream;
      },
    },
  };
}

/** The response stream handed to the handler: parses the prelude, then streams the body to `response`. */
class PreludeResponseStream extends Writable {
  private head: Buffer = Buffer.alloc(0);
  private started = false;

  constructor(private readonly response: http.ServerResponse) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.started) {
      this.response.write(chunk, callback);
      return;
    }
    this.head = Buffer.concat([this.head, chunk]);
    const end = this.head.indexOf(PRELUDE_DELIMITER);
    if (end < 0) return callback();
    const prelude = JSON.parse(this.head.subarray(0, end).toString('utf8')) as { statusCode: number; headers?: Record<string, string> };
    this.response.writeHead(prelude.statusCode, prelude.headers);
    this.response.flushHeaders();
    this.started = true;
    const rest = this.head.subarray(end + PRELUDE_DELIMITER.length);
    if (rest.length > 0) this.response.write(rest, callback);
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A handler that never wrote a prelude answered nothing: Lambda reports 502.
    if (!this.started) this.response.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Internal server error' }));
    else this.response.end();
    callback();
  }
}

/** An API Gateway REST proxy event for a local request, signed in as `x-local-principal`. */
function restProxyEvent(request: http.IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]));
  const principal = headers[PRINCIPAL_HEADER] ?? DEFAULT_PRINCIPAL;
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    // Base64, as API Gateway sends binary bodies: the bytes reach the handler exactly as sent.
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      requestId: randomUUID(),
      stage: 'prod',
      path: `/prod${url.pathname}`,
      httpMethod: request.method ?? 'GET',
      identity: { userArn: principal, caller: principal },
    },
  } as unknown as APIGatewayProxyEvent;
}

/** Serves a streaming Lambda handler on a local port. */
export class LambdaStreamingServer {
  static async start(handler: StreamingHandler, options: { port?: number; host?: string; timeoutMs?: number } = {}): Promise<LambdaStreamingServer> {
    const server = new LambdaStreamingServer(handler, options.timeoutMs ?? 120_000);
    server.url = await listen(server.server, options.port ?? 0, options.host ?? '127.0.0.1');
    return server;
  }

  url = '';
  private readonly server: http.Server;

  private constructor(
    private readonly handler: StreamingHandler,
    private readonly timeoutMs: number,
  ) {
    // A client that hangs up mid-upload fails the body read: drop that exchange, keep serving.
    this.server = http.createServer((request, response) => this.invoke(request, response).catch(() => response.destroy()));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async invoke(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
    const deadline = Date.now() + this.timeoutMs;
    const context = { awsRequestId: randomUUID(), functionName: 'agent-runtime', getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
    const stream = new PreludeResponseStream(response);
    // A client that leaves mid-stream ends the stream, as in Lambda: the handler sees its 'close' and
    // stops; a write that was under way fails into this listener instead of crashing the process.
    stream.on('error', () => undefined);
    response.on('close', () => {
      if (!response.writableFinished) stream.destroy();
    });
    try {
      await this.handler(restProxyEvent(request, Buffer.concat(chunks)), stream, context);
    } catch (error) {
      // As in Lambda: the invocation fails, its error is logged, the caller gets a 502 if nothing was sent yet.
      process.stderr.write(`${JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message })}\n`);
    } finally {
      if (!stream.writableEnded) stream.end();
    }
  }
}
