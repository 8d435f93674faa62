import { Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { MultiRegionAgentError } from '../errors';

/**
 * Where an outside provider's API key is kept: a Secrets Manager secret in
 * each runtime's own region (a runtime never reads a key across regions).
 */
export abstract class ProviderApiKey {
  /** An empty secret created beside each runtime, one per provider; fill it before the first call (see docs/providers.md). */
  static readonly CREATE: ProviderApiKey = new (class extends ProviderApiKey {
    readonly created = true;
    secretIn(): secretsmanager.ISecret | undefined {
      return undefined;
    }
  })();

  /** An empty secret created beside each runtime, one per provider. */
  static create(): ProviderApiKey {
    return ProviderApiKey.CREATE;
  }

  /**
   * A secret of this name that exists in every region whose runtime has the
   * target (e.g. created by your own process, or replicated by Secrets Manager).
   */
  static fromSecretName(secretName: string): ProviderApiKey {
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(secretName)) {
      throw new MultiRegionAgentError(
        'InvalidSecretName',
        `ProviderApiKey.fromSecretName: secretName must be a Secrets Manager secret name, got '${secretName}'`,
      );
    }
    return new (class extends ProviderApiKey {
      readonly created = false;
      secretIn(scope: Construct, id: string): secretsmanager.ISecret {
        return secretsmanager.Secret.fromSecretNameV2(scope, id, secretName);
      }
    })();
  }

  /**
   * A secret of your stack; only runtimes of that stack's region may use it
   * (synthesis refuses others). Its customer-managed key, if any, is granted too.
   */
  static fromSecret(secret: secretsmanager.ISecret): ProviderApiKey {
    return new (class extends ProviderApiKey {
      readonly created = false;
      secretIn(scope: Construct): secretsmanager.ISecret {
        const region = Stack.of(scope).region;
        const secretRegion = secret.env.region;
        if (!Token.isUnresolved(secretRegion) && secretRegion !== region) {
          throw new MultiRegionAgentError(
            'SecretInOtherRegion',
            `apiKey: the secret ${secret.node.path} is in ${secretRegion}, but the runtime in ${region} reads its key in its own region; use ProviderApiKey.fromSecretName() with a secret of that name in every region, or ProviderApiKey.create()`,
            scope,
          );
        }
        return secret;
      }
    })();
  }

  /** Whether the runtime creates the secret. */
  abstract readonly created: boolean;

  /** The secret as the runtime's stack sees it; undefined when the runtime creates it. */
  abstract secretIn(scope: Construct, id: string): secretsmanager.ISecret | undefined;

  /** The ARN the runtime's policy names: the full ARN when known, else the partial one with Secrets Manager's six-character suffix. */
  policyArnOf(secret: secretsmanager.ISecret): string {
    return secret.secretFullArn ?? `${secret.secretArn}-??????`;
  }
}
