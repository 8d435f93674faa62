/**
 * The chain's calls to outside providers, with their keys from Secrets
 * Manager: imported only by runtimes (and probes) whose chain has a
 * provider target (optional-modules.ts, target-invoker.ts).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock, InvokeTarget } from '../chain/types';
import type { RuntimeConfig } from '../config';
import { providerInvoker } from './provider-invoker';
import { ProviderKeys } from './provider-keys';

export function outsideProviders(config: RuntimeConfig, secrets: Promise<SecretsManagerClient>, clock: Clock): InvokeTarget {
  const keys = new ProviderKeys(secrets, config.providerKeyTtlMs, clock);
  return providerInvoker({ keys, clock, endpoints: config.endpoints?.providers });
}
