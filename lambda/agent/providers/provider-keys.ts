/**
 * Outside providers' API keys, read from Secrets Manager (secret-values.ts):
 * a rotated key is picked up within the TTL, or at once when the provider
 * answers 401 (the invoker then asks for a fresh read, once). A key that
 * cannot be used is a classified failure naming the secret and the fix.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../chain/types';
import type { ProviderName } from '../config';
import { keyFailure } from './provider-error';
import { SecretUnusable, SecretValues } from './secret-values';

export class ProviderKeys {
  private readonly values: SecretValues;

  constructor(client: SecretsManagerClient | Promise<SecretsManagerClient>, ttlMs: number, clock: Clock) {
    this.values = new SecretValues(client, ttlMs, clock);
  }

  /** The key in `secretId`, from memory when read less than the TTL ago; `fresh` reads it again. */
  async get(provider: ProviderName, secretId: string, fresh = false): Promise<string> {
    try {
      return await this.values.get(secretId, fresh);
    } catch (error) {
      if (!(error instanceof SecretUnusable)) throw error;
      if (error.reason === 'empty')
        throw keyFailure(provider, `the ${provider} key secret ${secretId} is empty: put the key with aws secretsmanager put-secret-value`);
      throw keyFailure(
        provider,
        `the ${provider} key secret ${secretId} cannot be read (${error.reason}): put the key with aws secretsmanager put-secret-value, and check the runtime's grant`,
      );
    }
  }
}
