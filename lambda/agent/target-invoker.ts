/**
 * What calls a chain's targets: ConverseStream for Bedrock's, and the
 * outside providers' APIs (their keys read from Secrets Manager in the
 * runtime's region) for the others. The runtime and the probe call targets
 * through the same invoker, so a probe tests the very path a fallback takes.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Clock, InvokeTarget } from './chain/types';
import type { RuntimeConfig } from './config';
import { optionalModules } from './optional-modules';
import { providerInvoker } from './providers/provider-invoker';
import { ProviderKeys } from './providers/provider-keys';

/** Bedrock for Bedrock targets; the outside providers' invoker, with its Secrets Manager client, when the chain has any. */
export function targetInvoker(
  config: RuntimeConfig,
  bedrock: InvokeTarget,
  clock: Clock,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): InvokeTarget {
  if (!config.chain.some((target) => target.provider)) return bedrock;
  const keys = new ProviderKeys(secretsManagerClient(config, credentials), config.providerKeyTtlMs, clock);
  const providers = providerInvoker({ keys, clock, endpoints: config.endpoints?.providers });
  return (target, request, signal) => (target.provider ? providers : bedrock)(target, request, signal);
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
