import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { createAgentKey } from './agent-key';

/** Keys whose policy already lets CloudWatch Logs use them, so that a key shared by several log groups gets the statement once. */
const keysAllowingLogs = new WeakSet<kms.IKey>();

/**
 * How the agent's CloudWatch Logs log groups are encrypted at rest.
 *
 * Log groups hold no message text by default, but AWS Control Tower's
 * proactive control CT.CLOUDWATCH.PR.3 (and many landing zones) want them
 * encrypted with a KMS key: that is the default.
 */
export class LogEncryption {
  /**
   * A customer-managed KMS key: `key`, or a new one (rotated yearly,
   * retained when the stack is deleted) in the construct that encrypts its
   * log groups. Its key policy lets the CloudWatch Logs service of the
   * key's region use it for log groups of its account and region only
   * (condition on `kms:EncryptionContext:aws:logs:arn`).
   *
   * Note: a key imported by ARN keeps its own policy, which must allow that
   * already; the key must be in the log groups' region. Costs $1 a month
   * per key, and KMS requests.
   */
  static kms(key?: kms.IKey): LogEncryption {
    return new LogEncryption(true, key);
  }

  /**
   * CloudWatch Logs' own server-side encryption, without a KMS key: no KMS
   * charges, but the log groups fail CT.CLOUDWATCH.PR.3.
   */
  static serviceManaged(): LogEncryption {
    return new LogEncryption(false, undefined);
  }

  private constructor(
    /** Whether log groups name a KMS key. */
    readonly usesKms: boolean,
    /** The key given to `kms(key)`, if any. */
    readonly key: kms.IKey | undefined,
  ) {}

  /**
   * The key for log groups created in `scope`: the given key, or a new one
   * with the id `id` in `scope`, each allowed to CloudWatch Logs; undefined
   * for `serviceManaged()`.
   */
  keyFor(scope: Construct, id: string): kms.IKey | undefined {
    if (!this.usesKms) return undefined;
    const key = this.key ?? createAgentKey(scope, id, `CloudWatch Logs log groups of ${scope.node.path}`);
    allowLogGroups(key);
    return key;
  }
}

/**
 * Lets the CloudWatch Logs service of the key's region encrypt and decrypt
 * with `key` for log groups of the key's account and region, as AWS
 * documents for encrypted log groups (a no-op for an imported key, whose
 * policy CDK cannot change).
 */
export function allowLogGroups(key: kms.IKey): void {
  if (keysAllowingLogs.has(key)) return;
  keysAllowingLogs.add(key);
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisRegion',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}
