/**
 * The fetch an MCP server's transport sends its requests with, carrying the
 * server's authentication: a bearer token read from Secrets Manager (cached
 * like the providers' keys; a 401 reads it again, once, since a refused
 * request did not run), or a SigV4 signature made with the AWS SDK's own
 * signer and the runtime's credentials, for Lambda function URLs and
 * AgentCore Gateway with IAM.
 */
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { SecretValues } from '../providers/secret-values';
import type { McpAuthSpec } from './asset-layout';

export interface McpAuthDependencies {
  secrets?: SecretValues;
  /** The runtime's credentials, for SigV4. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** `fetch` with the server's authentication added to every request. */
export function authenticatedFetch(auth: McpAuthSpec | undefined, deps: McpAuthDependencies): FetchLike {
  if (!auth) return (url, init) => fetch(url, init);
  if (auth.kind === 'bearer') return bearerFetch(auth.secretArn, requireDependency(deps.secrets, 'a Secrets Manager client'));
  return sigv4Fetch(auth.service, auth.region, requireDependency(deps.credentials, 'credentials'));
}

function bearerFetch(secretArn: string, secrets: SecretValues): FetchLike {
  const send = async (url: string | URL, init: RequestInit | undefined, fresh: boolean) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${await secrets.get(secretArn, fresh)}`);
    return fetch(url, { ...init, headers });
  };
  return async (url, init) => {
    const response = await send(url, init, false);
    if (response.status !== 401) return response;
    // A rotated token: the server refused the request, so sending it again with a fresh read runs nothing twice.
    await response.body?.cancel();
    return send(url, init, true);
  };
}

function sigv4Fetch(service: string, region: string, credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider): FetchLike {
  const signer = new SignatureV4({ credentials, region, service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  return async (url, init) => {
    const target = new URL(url);
    const body = await bodyText(init?.body);
    const headers: Record<string, string> = { host: target.host };
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
    const signed = await signer.sign({
      method: init?.method ?? 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port === '' ? undefined : Number(target.port),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers,
      body,
    });
    // fetch sets Host itself (and refuses to be told it).
    const { host: _host, ...sent } = signed.headers;
    return fetch(url, { ...init, headers: sent, body });
  };
}

/** The transport sends JSON-RPC as a string; anything else is read whole, since its hash is signed. */
async function bodyText(body: RequestInit['body']): Promise<string | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  return new Response(body).text();
}

function requireDependency<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`an MCP server's authentication needs ${what}`);
  return value;
}
