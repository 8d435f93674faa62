import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { createAgentKey } from '../governance/agent-key';

/** The principal CloudWatch alarms publish to SNS as. */
const CLOUDWATCH_PRINCIPAL = 'cloudwatch.amazonaws.com';

/** Properties of an {@link AlarmTopic}: its display name, the alarms that may publish to it, and its key. */
export interface AlarmTopicProps {
  /** What the topic carries, as its display name. */
  readonly displayName: string;
  /**
   * The start of the names of the alarms that may publish to the topic
   * (`aws:SourceArn` of CloudWatch alarms of this account and region), e.g.
   * `support-agent-eu-west-1-`.
   */
  readonly alarmNamePrefix: string;
  /**
   * The key that encrypts the topic's messages at rest. Its policy is
   * extended to let CloudWatch alarms of this account use it (for a key
   * imported by ARN, its own policy must allow that already).
   * @default - a new KMS key (`Key`), rotated yearly
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * An SNS topic that CloudWatch alarms of its region notify: encrypted with
 * a customer-managed KMS key (the AWS-managed SNS key cannot be used by
 * CloudWatch), TLS required of every publisher and subscriber, and
 * `sns:Publish` granted to CloudWatch for exactly the alarms of this
 * account and region whose names start with `alarmNamePrefix`.
 *
 * A topic policy replaces SNS's default one (which lets the owner account's
 * principals publish), so the grant to CloudWatch is explicit here.
 */
export class AlarmTopic extends Construct {
  /** The encrypted SNS topic. */
  readonly topic: sns.Topic;
  /** The KMS key the topic is encrypted with. */
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.encryptionKey = props.encryptionKey ?? createAgentKey(this, 'Key', `${props.displayName} (SNS)`);
    this.topic = new sns.Topic(this, 'Resource', { displayName: props.displayName, masterKey: this.encryptionKey, enforceSSL: true });
    const fromAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${props.alarmNamePrefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAgentAlarmsToPublish',
        principals: [new iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromAlarms,
      }),
    );
    allowAlarmsToEncrypt(this.encryptionKey, stack.account);
  }
}

/** Keys already extended, so that topics sharing a key add the statement once. */
const keysAllowingAlarms = new WeakSet<kms.IKey>();

/**
 * CloudWatch needs `kms:GenerateDataKey*` and `kms:Decrypt` on the key of an
 * encrypted topic to publish to it; limited to alarms of `account`.
 */
function allowAlarmsToEncrypt(key: kms.IKey, account: string): void {
  if (keysAllowingAlarms.has(key)) return;
  keysAllowingAlarms.add(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
      principals: [new iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': account } },
    }),
  );
}
