/**
 * Lambda entry point: API Gateway (REST, response transfer mode STREAM)
 * invokes it with InvokeWithResponseStream and a REST proxy event. This file
 * only adapts that event and the response stream to the transport-free app;
 * the configuration is validated at cold start, so a bad one fails the
 * function's initialization with a message naming the field.
 */
import { finished } from 'node:stream/promises';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { toAgentRequest } from './http/api-gateway-event';
import { loadRuntimeConfig } from './config';
import type { ResponseSink } from './http/types';
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
