/**
 * An HTTP proxy in front of the embedded DynamoDB that can lose answers: the
 * request reaches the table and is applied, then the connection is cut
 * before the answer goes back, as when a response is lost in the network.
 * The SDK then retries a write that already happened.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LostAnswerRule {
  /** DynamoDB operation, e.g. PutItem. */
  operation: string;
  /** Which requests of that operation (their JSON body). */
  matches?: (body: Record<string, unknown>) => boolean;
  times: number;
}

export class DynamoFaultProxy {
  static async start(target: string): Promise<DynamoFaultProxy> {
    const proxy = new DynamoFaultProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  /** Operations as they reached the table, in order. */
  readonly seen: Array<{ operation: string; body: Record<string, unknown>; answered: boolean }> = [];
  private readonly rules: LostAnswerRule[] = [];
  private readonly server: http.Server;
  /** Requests sent on to the table and not yet answered by it, and who waits for there to be none. */
  private inFlight = 0;
  private readonly onIdle: Array<() => void> = [];

  private constructor(target: URL) {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
        const body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        this.inFlight += 1;
        const upstream = http.request(
          { host: target.hostname, port: target.port, path: request.url, method: request.method, headers: request.headers },
          (answer) => {
            const answerChunks: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
            answer.on('end', () => {
              this.settle();
              const lose = this.takeRule(operation, body);
              this.seen.push({ operation, body, answered: !lose });
              if (lose) {
                request.socket.destroy();
                return;
              }
              response.writeHead(answer.statusCode ?? 502, answer.headers);
              response.end(Buffer.concat(answerChunks));
            });
          },
        );
        upstream.on('error', () => {
          this.settle();
          request.socket.destroy();
        });
        upstream.end(raw);
      });
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `times` matching requests are applied, and their answers lost. */
  loseAnswers(rule: LostAnswerRule): void {
    this.rules.push({ ...rule });
  }

  /** Resolves once every request sent on to the table has its answer: a test may then close the table without a write still landing in it. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.onIdle.push(resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private settle(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) for (const resolve of this.onIdle.splice(0)) resolve();
  }

  private takeRule(operation: string, body: Record<string, unknown>): boolean {
    const rule = this.rules.find((candidate) => candidate.times > 0 && candidate.operation === operation && (candidate.matches?.(body) ?? true));
    if (!rule) return false;
    rule.times -= 1;
    return true;
  }
}

/** The sort key of a PutItem request, in attribute-value form. */
export function sortKeyOf(body: Record<string, unknown>): string {
  return String((body.Item as Record<string, { S?: string }> | undefined)?.sk?.S ?? '');
}
