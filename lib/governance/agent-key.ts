import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * A KMS key as this library makes them: rotated yearly, retained when its
 * stack is deleted (data it encrypted may outlive the stack), and a key
 * policy that refuses `kms:CreateGrant` unless the grant is for an AWS
 * service's resource, made by an AWS service (AWS Control Tower's
 * CT.KMS.PR.3). The services that use the key (CloudWatch Logs, CloudWatch
 * alarms publishing to SNS) are allowed by statements their users add.
 */
export function createAgentKey(scope: Construct, id: string, description: string): kms.Key {
  const key = new kms.Key(scope, id, { enableKeyRotation: true, description });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
  return key;
}
