import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ProviderApiKey } from './provider-api-key';
import type { ProviderModel } from './provider-model';

/** One provider key as the runtime reads it. */
export interface ProviderKeySecret {
  /** The secret that holds the key. */
  readonly secret: secretsmanager.ISecret;
  /** What the runtime passes to GetSecretValue (the secret's ARN, or its name). */
  readonly secretId: string;
  /** What the runtime's policy names. */
  readonly policyArn: string;
}

/** Properties of {@link ProviderKeys}: the outside models whose keys the region's runtime needs. */
export interface ProviderKeysProps {
  /** The outside providers' models of this region's chain. */
  readonly models: readonly ProviderModel[];
}

/**
 * The Secrets Manager secrets that hold the outside providers' API keys of
 * one runtime, in its own region: the given ones, or an empty secret per
 * provider and residency (a key belongs to one OpenAI project, and a
 * project to one residency region). `grantRead()` lets the runtime read
 * exactly these, and nothing else.
 */
export class ProviderKeys extends Construct {
  private readonly byModel = new Map<ProviderModel, ProviderKeySecret>();

  constructor(scope: Construct, id: string, props: ProviderKeysProps) {
    super(scope, id);
    const byId = new Map<string, ProviderKeySecret>();
    const given = new Map<ProviderApiKey, number>();
    for (const model of props.models) {
      const apiKey = model.apiKey;
      if (!apiKey.created && !given.has(apiKey)) given.set(apiKey, given.size);
      // Created secrets are one per provider and residency; given ones one per ProviderApiKey.
      const secretId = apiKey.created ? `${model.provider}-${model.residency}` : `${model.provider}-given${given.get(apiKey)}`;
      const entry = byId.get(secretId) ?? this.secretOf(model, apiKey, secretId);
      byId.set(secretId, entry);
      this.byModel.set(model, entry);
    }
  }

  /** Every secret, once. */
  get secrets(): ProviderKeySecret[] {
    return [...new Set(this.byModel.values())];
  }

  /** The secret of one model of the chain. */
  secretFor(model: ProviderModel): ProviderKeySecret {
    const entry = this.byModel.get(model);
    if (!entry) throw new Error(`ProviderKeys: ${model.displayName} is not a model of this runtime's chain`);
    return entry;
  }

  /** secretsmanager:GetSecretValue on exactly these secrets, and kms:Decrypt through Secrets Manager on their customer-managed keys. */
  grantRead(grantee: iam.IGrantable): void {
    const secrets = this.secrets;
    if (secrets.length === 0) return;
    const add = (statement: iam.PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
    add(new iam.PolicyStatement({ sid: 'ReadProviderKeys', actions: ['secretsmanager:GetSecretValue'], resources: secrets.map((entry) => entry.policyArn) }));
    const keys = [...new Set(secrets.flatMap((entry) => (entry.secret.encryptionKey ? [entry.secret.encryptionKey.keyArn] : [])))];
    if (keys.length > 0) {
      add(
        new iam.PolicyStatement({
          sid: 'DecryptProviderKeys',
          actions: ['kms:Decrypt'],
          resources: keys,
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
  }

  private secretOf(model: ProviderModel, apiKey: ProviderApiKey, id: string): ProviderKeySecret {
    const imported = apiKey.secretIn(this, id);
    if (imported) return { secret: imported, secretId: imported.secretFullArn ?? imported.secretName, policyArn: apiKey.policyArnOf(imported) };
    const region = Stack.of(this).region;
    const secret = new secretsmanager.Secret(this, id, {
      description: `API key of ${model.provider} (${model.residency === 'global' ? 'global' : `${model.residency} residency`}) for the agent runtime in ${region}: put the key as the secret string`,
    });
    // Created empty: a call before the key is put fails as a configuration error, never with a generated random string.
    (secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The provider issues the API key in its own console, so Secrets Manager cannot rotate it: rotate it there and put the new value; the runtime re-reads the secret within its key TTL, and at once on a 401.',
    });
    new CfnOutput(this, `${id}Secret`, {
      value: secret.secretArn,
      description: `Put the ${model.provider} (${model.residency}) API key: aws secretsmanager put-secret-value --region ${region} --secret-id <this value> --secret-string "$KEY"`,
    });
    return { secret, secretId: secret.secretArn, policyArn: secret.secretArn };
  }
}
