/**
 * Maps API Gateway's REST proxy event (the input of both buffered and
 * streaming Lambda proxy integrations) to the transport-free request.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { Caller } from './identity';
import type { AgentHttpRequest } from './types';

export function toAgentRequest(
  event: APIGatewayProxyEvent,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
  signal?: AbortSignal,
): AgentHttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    method: event.httpMethod,
    path: event.path,
    ...(event.queryStringParameters ? { query: { ...event.queryStringParameters } } : {}),
    headers,
    body: bodyOf(event),
    caller: callerOf(event),
    requestId: event.requestContext?.requestId ?? context.awsRequestId ?? randomUUID(),
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
    signal,
  };
}

function bodyOf(event: APIGatewayProxyEvent): Uint8Array | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** IAM authorization names the caller's ARN (and its identity pool identity); a Cognito authorizer passes the user's claims. */
function callerOf(event: APIGatewayProxyEvent): Caller | undefined {
  const identity = event.requestContext?.identity;
  const claims = event.requestContext?.authorizer?.claims as Record<string, string> | undefined;
  const caller: Caller = {
    arn: identity?.userArn ?? undefined,
    cognitoIdentityId: identity?.cognitoIdentityId ?? undefined,
    userPoolSub: claims?.sub,
  };
  return caller.arn || caller.cognitoIdentityId || caller.userPoolSub ? caller : undefined;
}
