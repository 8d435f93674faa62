/**
 * Lambda entry point: API Gateway (REST, response transfer mode STREAM)
 * invokes it with InvokeWithResponseStream and a REST proxy event. This file
 * only adapts that event and the response stream to the transport-free app;
 * the configuration is validated at cold start, so a bad one fails the
 * function's initialization with a message naming the field. The agent the
 * construct shipped beside this file (its bundled code, instructions and
 * Lambda tools) starts loading at cold start too; the first request waits
 * for it.
 */
import { finished } from 'node:stream/promises';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { toAgentRequest } from './http/api-gateway-event';
import { loadAgentAsset } from './agent/agent-asset';
import { loadRuntimeConfig } from './config';
import type { ResponseSink } from './http/types';
import { createAgentRuntime } from './runtime';

const config = loadRuntimeConfig();
// LAMBDA_TASK_ROOT is the function's code directory, where the asset's files are.
const ready = loadAgentAsset(process.env.LAMBDA_TASK_ROOT ?? process.cwd()).then((asset) => createAgentRuntime(config, asset));

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
  const runtime = await ready;
  await runtime.app.handle(toAgentRequest(event, context, clientGone.signal), sink);
  if (response) await finished(response).catch(() => undefined);
});
