import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { HealthTableSchema } from '../../lambda/agent/health/health-table-schema';

/** What the runtime does with the table (lambda/agent/health/dynamo-health-store.ts), and nothing else. */
const HEALTH_TABLE_ACTIONS = ['dynamodb:Query', 'dynamodb:UpdateItem'];

/** Properties of a {@link TargetHealthTable}. */
export interface TargetHealthTableProps {
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.DESTROY - its records are rebuilt by the runtimes within seconds
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The small regional table through which a region's runtime environments
 * (and its probes) share what they learn about the chain's targets: one
 * item per target with a breaker state, times and a first-token latency,
 * expiring by TTL an hour after its last write.
 *
 * It holds no user data, so it is one plain table in the runtime's region,
 * not a replica of a jurisdiction's global table. It is encrypted at rest
 * with DynamoDB's AWS-owned key. Point-in-time recovery is off: there is
 * nothing to restore, since an empty table means "nothing known", which is
 * how every environment starts, and the runtimes refill it within a
 * refresh interval.
 */
export class TargetHealthTable extends Construct {
  /** The DynamoDB table. */
  readonly table: dynamodb.TableV2;
  /** The physical name, a plain string (not a reference), chosen at synthesis. */
  readonly tableName: string;

  constructor(scope: Construct, id: string, props: TargetHealthTableProps = {}) {
    super(scope, id);
    // A name known at synthesis, so that the runtime's 4 KB configuration is measured as deployed.
    this.tableName = Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    this.table = new dynamodb.TableV2(this, 'Resource', {
      tableName: this.tableName,
      partitionKey: { name: HealthTableSchema.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: HealthTableSchema.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.dynamoOwnedKey(),
      timeToLiveAttribute: HealthTableSchema.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false },
      deletionProtection: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  /** The probe only writes: UpdateItem, on this table. */
  grantHealthWrites(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:UpdateItem'], resourceArns: [this.table.tableArn] });
  }

  /** Grants exactly what the runtime does: Query the region's records and UpdateItem one. */
  grantHealthAccess(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: HEALTH_TABLE_ACTIONS, resourceArns: [this.table.tableArn] });
  }
}
