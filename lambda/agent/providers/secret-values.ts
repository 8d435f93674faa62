/**
 * Secrets read from Secrets Manager in the runtime's own region and kept in
 * memory for a bounded time: a rotated value is picked up within the TTL,
 * or at once when its user asks for a fresh read (after a 401, say). Values
 * never leave this object but to their caller: not in logs, errors or metrics.
 * Outside providers' keys and MCP servers' bearer tokens are read here.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../chain/types';
import { optionalModules } from '../optional-modules';

interface CachedValue {
  value: Promise<string>;
  readAt: number;
}

/** Secrets Manager errors that mean the secret itself is wrong (missing, empty, not ours), not that the service is down. */
const CONFIGURATION_ERRORS = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'InvalidRequestException', 'DecryptionFailure']);

/** A secret that cannot be used as it is: `reason` is Secrets Manager's error name, or `empty`. */
export class SecretUnusable extends Error {
  override readonly name = 'SecretUnusable';
  constructor(
    readonly secretId: string,
    readonly reason: string,
  ) {
    super(`the secret ${secretId} ${reason === 'empty' ? 'is empty' : `cannot be read (${reason})`}`);
  }
}

export class SecretValues {
  private readonly cache = new Map<string, CachedValue>();
  private readonly client: Promise<SecretsManagerClient>;

  /** `client` may still be loading (target-invoker.ts imports the SDK's client only when secrets are configured). */
  constructor(
    client: SecretsManagerClient | Promise<SecretsManagerClient>,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {
    this.client = Promise.resolve(client);
    // A client that failed to load fails the reads that wait for it, not the process as an unhandled rejection.
    this.client.catch(() => undefined);
  }

  /** The value of `secretId`, trimmed, from memory when read less than the TTL ago; `fresh` reads it again. */
  get(secretId: string, fresh = false): Promise<string> {
    const cached = this.cache.get(secretId);
    if (cached && !fresh && this.clock.now() - cached.readAt < this.ttlMs) return cached.value;
    const value = this.read(secretId);
    this.cache.set(secretId, { value, readAt: this.clock.now() });
    // A failed read is not kept: the next request tries again.
    value.catch(() => {
      if (this.cache.get(secretId)?.value === value) this.cache.delete(secretId);
    });
    return value;
  }

  private async read(secretId: string): Promise<string> {
    let value: string | undefined;
    try {
      const [client, { GetSecretValueCommand }] = await Promise.all([this.client, optionalModules.secretsManagerClient()]);
      value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (error) {
      const name = (error as Error).name;
      // Before any value is put, Secrets Manager answers ResourceNotFoundException for the AWSCURRENT stage.
      if (CONFIGURATION_ERRORS.has(name)) throw new SecretUnusable(secretId, name);
      throw error;
    }
    const trimmed = value?.trim() ?? '';
    if (trimmed === '') throw new SecretUnusable(secretId, 'empty');
    return trimmed;
  }
}
