/**
 * Sending one request the way the API's contract asks:
 *
 * - a regional failure (the connection fails, no response before the
 *   first-byte timeout, or a 5xx that the agent did not write: the gateway's,
 *   or a region that is down) moves on to the jurisdiction's next name,
 *   never to a name outside it;
 * - an answer the API marks retryable (`retryable: true`, or a 429) is
 *   retried on the same name after its `retry-after`;
 * - anything else is the answer. The request, its body and its headers
 *   (the Idempotency-Key too) are the same on every try.
 */
import type { AgentAuth } from './auth';
import type { Candidate, JurisdictionEndpoints } from './endpoints';
import { candidatesOf } from './endpoints';
import { AgentClientError } from './errors';

export interface TransportOptions {
  auth: AgentAuth;
  fetch: typeof fetch;
  /** Retries of retryable answers, per request. */
  maxRetries: number;
  /** The longest retry-after honoured; a longer one is returned to the caller as the error. */
  maxRetryAfterMs: number;
  /** How long to wait for a response's headers before the name counts as failed. */
  firstByteTimeoutMs: number;
  /** Sent on every request (the end user, your own). */
  headers: Record<string, string>;
}

export interface ApiRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The header every answer the agent itself writes carries: without it, a 5xx came from the gateway or a dead region. */
const RUNTIME_HEADER = 'x-agent-runtime-region';

export class Transport {
  /** The region each jurisdiction's name answered from, as its /health said (SigV4 signs for it). */
  private readonly routedRegion = new Map<string, Promise<string | undefined>>();

  constructor(private readonly options: TransportOptions) {}

  /** The response to `request` from the first name of the jurisdiction that answers it. */
  async send(jurisdiction: JurisdictionEndpoints, request: ApiRequest): Promise<Response> {
    const attempts: Array<{ url: string; failure: string }> = [];
    for (const candidate of await this.candidates(jurisdiction)) {
      const response = await this.sendTo(candidate, request, attempts);
      if (response) return response;
    }
    throw new AgentClientError('regions_unreachable', `no name of the jurisdiction answered: ${attempts.map((a) => `${a.url} (${a.failure})`).join(', ')}`, {
      attempts,
      retryable: true,
    });
  }

  /**
   * The names to try. A SigV4 signature names its region, which a
   * latency-routed name does not tell in advance: the jurisdiction's name
   * is asked which region it routes to (`/health`, unauthenticated), and
   * that region's own name goes first.
   */
  private async candidates(jurisdiction: JurisdictionEndpoints): Promise<Candidate[]> {
    const all = candidatesOf(jurisdiction);
    if (!this.options.auth.signsForRegion) return all;
    const regional = all.filter((candidate) => candidate.region);
    if (!this.routedRegion.has(jurisdiction.url)) this.routedRegion.set(jurisdiction.url, this.healthRegion(jurisdiction.url));
    const routed = await this.routedRegion.get(jurisdiction.url);
    if (routed === undefined) this.routedRegion.delete(jurisdiction.url);
    return [...regional.filter((candidate) => candidate.region === routed), ...regional.filter((candidate) => candidate.region !== routed)];
  }

  private async healthRegion(url: string): Promise<string | undefined> {
    try {
      const response = await this.options.fetch(`${url}/health`, { signal: AbortSignal.timeout(this.options.firstByteTimeoutMs) });
      const body = (await response.json()) as { region?: unknown };
      return typeof body.region === 'string' ? body.region : undefined;
    } catch {
      return undefined;
    }
  }

  /** The answer of one name (after its retries), or undefined when the name failed as a region fails. */
  private async sendTo(candidate: Candidate, request: ApiRequest, attempts: Array<{ url: string; failure: string }>): Promise<Response | undefined> {
    const url = `${candidate.url}${request.path}`;
    for (let retry = 0; ; retry++) {
      const outcome = await this.once(url, candidate.region, request);
      if ('failure' in outcome) {
        attempts.push({ url: candidate.url, failure: outcome.failure });
        return undefined;
      }
      const { response } = outcome;
      if (response.ok || retry >= this.options.maxRetries) return response;
      const waitMs = await this.retryDelay(response);
      if (waitMs === undefined) return response;
      await response.body?.cancel();
      await sleep(waitMs, request.signal);
    }
  }

  private async once(url: string, region: string | undefined, request: ApiRequest): Promise<{ response: Response } | { failure: string }> {
    const headers = await this.options.auth.authorize(
      { method: request.method, url, headers: { ...this.options.headers, ...request.headers }, ...(request.body === undefined ? {} : { body: request.body }) },
      region,
    );
    const firstByte = new AbortController();
    const timer = setTimeout(() => firstByte.abort(), this.options.firstByteTimeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, firstByte.signal]) : firstByte.signal;
    try {
      const response = await this.options.fetch(url, { method: request.method, headers, body: request.body, signal });
      if (response.status >= 500 && !response.headers.has(RUNTIME_HEADER)) {
        await response.body?.cancel();
        return { failure: `${response.status} before the agent` };
      }
      return { response };
    } catch (error) {
      if (request.signal?.aborted) throw new AgentClientError('aborted', 'the request was aborted', { cause: request.signal.reason });
      return { failure: firstByte.signal.aborted ? `no response in ${this.options.firstByteTimeoutMs} ms` : `connection failed: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** How long to wait before retrying this answer, or undefined when it is not to be retried. */
  private async retryDelay(response: Response): Promise<number | undefined> {
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { error?: { retryable?: unknown } } | undefined;
    if (body?.error?.retryable !== true && response.status !== 429) return undefined;
    const seconds = Number(response.headers.get('retry-after') ?? '1');
    const waitMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000;
    return waitMs <= this.options.maxRetryAfterMs ? waitMs : undefined;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(new AgentClientError('aborted', 'the request was aborted', { cause: signal?.reason }));
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
