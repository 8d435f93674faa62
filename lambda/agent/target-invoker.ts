/**
 * What calls a chain's targets: ConverseStream for Bedrock's, and the
 * outside providers' APIs (their keys read from Secrets Manager in the
 * runtime's region) for the others. The runtime and the probe call targets
 * through the same invoker, so a probe tests the very path a fallback takes.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Clock, InvokeTarget, ModelEvent, ModelRequest } from './chain/types';
import type { ChainTarget, RuntimeConfig } from './config';
import { optionalModules } from './optional-modules';
import { startedAhead } from './started-ahead';

/**
 * Bedrock for Bedrock targets; the outside providers' invoker, with its
 * Secrets Manager client, when the chain has any. Their code is imported at
 * once, not in every runtime's init: a call to a provider target before it
 * has loaded waits for it.
 */
export function targetInvoker(
  config: RuntimeConfig,
  bedrock: InvokeTarget,
  clock: Clock,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): InvokeTarget {
  if (!config.chain.some((target) => target.provider)) return bedrock;
  const secrets = startedAhead(secretsManagerClient(config, credentials));
  const providers = startedAhead(optionalModules.outsideProviders().then((module) => module.outsideProviders(config, secrets, clock)));
  return (target, request, signal) => (target.provider ? whenLoaded(providers, target, request, signal) : bedrock(target, request, signal));
}

async function* whenLoaded(invoker: Promise<InvokeTarget>, target: ChainTarget, request: ModelRequest, signal: AbortSignal): AsyncGenerator<ModelEvent> {
  yield* (await invoker)(target, request, signal);
}

/**
 * Secrets Manager in the runtime's own region: outside providers' keys, MCP
 * servers' tokens. Its client is imported only by runtimes that read secrets.
 */
export async function secretsManagerClient(
  config: RuntimeConfig,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): Promise<SecretsManagerClient> {
  const { SecretsManagerClient } = await optionalModules.secretsManagerClient();
  return new SecretsManagerClient({
    region: config.region,
    endpoint: config.endpoints?.secretsmanager,
    credentials,
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({ connectionTimeout: config.deadlines.connectTimeoutMs, requestTimeout: config.deadlines.stateTimeoutMs }),
  });
}
