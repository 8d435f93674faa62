/**
 * Outside providers' API keys, read from Secrets Manager in the runtime's
 * own region and kept in memory for a bounded time: a rotated key is
 * picked up within the TTL, or at once when the provider answers 401 (the
 * invoker then asks for a fresh read, once). Keys never leave this object
 * but in the request's header: not in logs, errors or metrics.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../chain/types';
import type { ProviderName } from '../config';
import { keyFailure } from './provider-error';

interface CachedKey {
  key: Promise<string>;
  readAt: number;
}

/** Secrets Manager errors that mean the secret itself is wrong (missing, empty, not ours), not that the service is down. */
const CONFIGURATION_ERRORS = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'InvalidRequestException', 'DecryptionFailure']);

export class ProviderKeys {
  private readonly cache = new Map<string, CachedKey>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** The key in `secretId`, from memory when read less than the TTL ago; `fresh` reads it again. */
  get(provider: ProviderName, secretId: string, fresh = false): Promise<string> {
    const cached = this.cache.get(secretId);
    if (cached && !fresh && this.clock.now() - cached.readAt < this.ttlMs) return cached.key;
    const key = this.read(provider, secretId);
    this.cache.set(secretId, { key, readAt: this.clock.now() });
    // A failed read is not kept: the next request tries again.
    key.catch(() => {
      if (this.cache.get(secretId)?.key === key) this.cache.delete(secretId);
    });
    return key;
  }

  private async read(provider: ProviderName, secretId: string): Promise<string> {
    let value: string | undefined;
    try {
      value = (await this.client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (error) {
      const name = (error as Error).name;
      // Before any value is put, Secrets Manager answers ResourceNotFoundException for the AWSCURRENT stage.
      if (CONFIGURATION_ERRORS.has(name)) {
        throw keyFailure(
          provider,
          `the ${provider} key secret ${secretId} cannot be read (${name}): put the key with aws secretsmanager put-secret-value, and check the runtime's grant`,
        );
      }
      throw error;
    }
    const key = value?.trim() ?? '';
    if (key === '') throw keyFailure(provider, `the ${provider} key secret ${secretId} is empty: put the key with aws secretsmanager put-secret-value`);
    return key;
  }
}
