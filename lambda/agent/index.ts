/**
 * Lambda entry point: API Gateway (REST, response transfer mode STREAM)
 * invokes it with InvokeWithResponseStream and a REST proxy event. This file
 * only adapts that event and the response stream to the transport-free app;
 * the configuration is validated at cold start, so a bad one fails the
 * function's initialization with a message naming the field.
 */
import 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { finished } from 'node:stream/promises';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { loadRuntimeConfig } from './config';
import type { AgentHttpRequest, ResponseSink } from './http/types';
import { createAgentRuntime } from './runtime';

const runtime = createAgentRuntime(loadRuntimeConfig());

export const handler = awslambda.streamifyResponse(async (event: APIGatewayProxyEvent, responseStream, context: Context) => {
  const clientGone = new AbortController();
  let response: awslambda.HttpResponseStream | undefined;
  responseStream.on('close', () => clientGone.abort());
  const sink: ResponseSink = {
    start: (statusCode, headers) => {
      response = awslambda.HttpResponseStream.from(responseStream, { statusCode, headers });
    },
    write: (chunk) => response?.write(chunk),
    end: () => response?.end(),
  };
  await runtime.app.handle(toAgentRequest(event, context, clientGone.signal), sink);
  if (response) await finished(response).catch(() => undefined);
});

export function toAgentRequest(event: APIGatewayProxyEvent, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>, signal?: AbortSignal): AgentHttpRequest {
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
