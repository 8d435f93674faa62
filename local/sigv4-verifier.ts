/**
 * API Gateway's IAM authorization, on the playground's front door (opt-in):
 * a request must carry a SigV4 signature, for service `execute-api` and the
 * region it is routed to, made with the playground's access key. The
 * signature is computed again with the AWS SDK's own signer
 * (@smithy/signature-v4) over the request as received, so a client's signer
 * (the typed client signs with aws4fetch) is checked by an independent one.
 */
import type * as http from 'node:http';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';

/** The key pair the playground announces; anything signed with another is refused. */
export interface LocalSigningKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export const LOCAL_SIGNING_KEY: LocalSigningKey = { accessKeyId: 'AKIDLOCALPLAYGROUND', secretAccessKey: 'local-playground-secret-not-for-aws' };

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/** Why the request is refused (as API Gateway's 403 would say), or undefined when its signature is valid for `region`. */
export async function signatureRefusal(
  request: http.IncomingMessage,
  body: Buffer,
  region: string,
  key: LocalSigningKey = LOCAL_SIGNING_KEY,
): Promise<string | undefined> {
  const authorization = request.headers.authorization;
  if (!authorization) return 'missing authentication: sign the request with SigV4 (service execute-api)';
  const parts = AUTHORIZATION.exec(authorization);
  if (!parts) return 'the Authorization header is not a SigV4 signature';
  const [, accessKeyId, , scopeRegion, service, signedHeaders, signature] = parts;
  if (accessKeyId !== key.accessKeyId) return `unknown access key ${accessKeyId}`;
  if (service !== 'execute-api') return `credential should be scoped to service execute-api, not ${service}`;
  if (scopeRegion !== region) return `credential should be scoped to a valid region: this is ${region}, not ${scopeRegion}`;
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) return 'x-amz-date is missing or malformed';
  const signedAt = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (Math.abs(Date.now() - signedAt) > 5 * 60_000) return 'signature expired: x-amz-date is more than 5 minutes from now';

  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) headers[name] = String(request.headers[name] ?? '');
  const [hostname, port] = (request.headers.host ?? '').split(':');
  const signer = new SignatureV4({
    credentials: key,
    region,
    service: 'execute-api',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
    // API Gateway signs no x-amz-content-sha256 header: the payload's hash is in the canonical request only.
    applyChecksum: false,
  });
  const expected = await signer.sign(
    {
      method: request.method ?? 'GET',
      protocol: 'http:',
      hostname,
      port: port === undefined ? undefined : Number(port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: body.length > 0 ? body : undefined,
    },
    { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders.split(';')) },
  );
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
  return expectedSignature === signature ? undefined : 'the signature does not match; check the key, region and service';
}
