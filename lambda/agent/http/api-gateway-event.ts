/**
 * Maps API Gateway's REST proxy event (the input of both buffered and
 * streaming Lambda proxy integrations) to the transport-free request.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { AgentHttpRequest } from './types';

export function toAgentRequest(
  event: APIGatewayProxyEvent,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
  signal?: AbortSignal,
): AgentHttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const identity = event.requestContext?.identity;
  const claims = event.requestContext?.authorizer?.claims as Record<string, string> | undefined;
  return {
    method: event.httpMethod,
    path: event.path,
    headers,
    body: event.body === null || event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
    // IAM authorization names the caller's ARN; a Cognito authorizer passes the user's sub claim.
    principal: claims?.sub ?? identity?.userArn ?? identity?.caller ?? undefined,
    requestId: event.requestContext?.requestId ?? context.awsRequestId ?? randomUUID(),
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
    signal,
  };
}
