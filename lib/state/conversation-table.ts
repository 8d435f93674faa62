import { Annotations, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TableSchema } from '../../lambda/agent/table-schema';
import { MultiRegionAgentError } from '../errors';
import type { Jurisdiction } from '../governance/jurisdiction';

/** Region sets in which DynamoDB offers multi-region strong consistency (MRSC). */
const STRONG_CONSISTENCY_REGION_SETS: readonly (readonly string[])[] = [
  ['us-east-1', 'us-east-2', 'us-west-2'],
  ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
];

/**
 * The DynamoDB actions the runtime uses (lambda/agent/store/dynamo-conversation-store.ts), and nothing else:
 * GetItem reads back a write whose condition failed, BatchWriteItem removes a deleted conversation's items.
 */
const RUNTIME_TABLE_ACTIONS = [
  'dynamodb:Query',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
/** The owner index is only queried (listing, export, erasure). */
const RUNTIME_INDEX_ACTIONS = ['dynamodb:Query'];
const RUNTIME_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey'];

/** What a runtime needs of its jurisdiction's table, wherever it is deployed. */
export interface IConversationTable {
  /** The jurisdiction whose conversations the table holds. */
  readonly jurisdiction: Jurisdiction;
  /** The table's physical name, the same in every replica region. */
  readonly tableName: string;
  /** The ARN of the home region's replica, which every runtime of the jurisdiction reads and writes. */
  readonly homeTableArn: string;
  /** The customer-managed key of the home region's replica, if the table uses one. */
  readonly homeKeyArn?: string;
  /** Grants exactly the runtime's DynamoDB actions on the home replica, Query on its owner index (and its key). */
  grantConversationAccess(grantee: iam.IGrantable): iam.Grant;
}

/** How the table is encrypted at rest. */
export class ConversationTableEncryption {
  /** DynamoDB's AWS-owned key: no key to manage, no KMS charges. */
  static awsOwned(): ConversationTableEncryption {
    return new ConversationTableEncryption(undefined, {});
  }

  /**
   * A customer-managed KMS key per replica: `tableKey` in the home region,
   * and the ARN of a key in each other region of the jurisdiction.
   */
  static customerManaged(tableKey: kms.IKey, replicaKeyArns: Record<string, string>): ConversationTableEncryption {
    return new ConversationTableEncryption(tableKey, replicaKeyArns);
  }

  private constructor(
    /** The customer-managed key of the home region's replica; undefined for the AWS-owned key. */
    readonly tableKey: kms.IKey | undefined,
    /** The ARN of the customer-managed key of each other replica, by region; empty for the AWS-owned key. */
    readonly replicaKeyArns: Record<string, string>,
  ) {}
}

/** Properties of a {@link ConversationTable}: its jurisdiction, name, encryption, consistency and lifecycle. */
export interface ConversationTableProps {
  /** The jurisdiction whose conversations the table holds; the stack must be in its home region. */
  readonly jurisdiction: Jurisdiction;
  /**
   * Physical table name, identical in every replica region.
   * @default ConversationTable.tableNameFor('agent', jurisdiction)
   */
  readonly tableName?: string;
  /** How the table is encrypted at rest. @default ConversationTableEncryption.awsOwned() */
  readonly encryption?: ConversationTableEncryption;
  /**
   * Multi-region strong consistency: reads in any replica see every
   * acknowledged write. Needs three regions of one region set, or two and a
   * `witnessRegion`. Note: such tables have no TTL here (see docs/state.md).
   * @default false - eventual consistency between replicas; the runtime reads and writes the home region
   */
  readonly strongConsistency?: boolean;
  /**
   * The witness region of a two-region strongly consistent table.
   * @default - none
   */
  readonly witnessRegion?: string;
  /** Whether DynamoDB refuses to delete the table (and each replica). @default true */
  readonly deletionProtection?: boolean;
  /** What happens to the table when it leaves the stack. @default RemovalPolicy.RETAIN - conversations outlive the stack */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A jurisdiction's conversation table: a DynamoDB global table defined in
 * its home region's stack, with replicas in the jurisdiction's other regions
 * and nowhere else, point-in-time recovery, TTL, deletion protection and
 * encryption at rest.
 */
export class ConversationTable extends Construct implements IConversationTable {
  /** Days point-in-time recovery keeps: DynamoDB's longest, and how long an erased conversation stays restorable from backups. */
  static readonly POINT_IN_TIME_RECOVERY_DAYS = 35;

  /** The deterministic name of a jurisdiction's table, so other regions can import it without references. */
  static tableNameFor(agentName: string, jurisdiction: Jurisdiction): string {
    return `${agentName}-conversations-${jurisdiction.name}`;
  }

  /**
   * References a jurisdiction's table from any stack, by its deterministic
   * name: no cross-region reference, no lookup.
   */
  static fromJurisdiction(scope: Construct, id: string, attrs: { jurisdiction: Jurisdiction; tableName: string; homeKeyArn?: string }): IConversationTable {
    return new ImportedConversationTable(scope, id, attrs);
  }

  /** The jurisdiction whose conversations the table holds. */
  readonly jurisdiction: Jurisdiction;
  /** The table's physical name, the same in every replica region. */
  readonly tableName: string;
  readonly homeTableArn: string;
  readonly homeKeyArn?: string;
  /** The global table itself. */
  readonly table: dynamodb.TableV2;
  /** Every region holding a replica (and its point-in-time recovery backups), the home region first. */
  readonly replicaRegions: readonly string[];
  /** The witness region of a two-region strongly consistent table (replication metadata, no items). */
  readonly witnessRegion?: string;

  constructor(scope: Construct, id: string, props: ConversationTableProps) {
    super(scope, id);
    const { jurisdiction } = props;
    const stackRegion = Stack.of(this).region;
    if (Token.isUnresolved(stackRegion) || stackRegion !== jurisdiction.homeRegion) {
      throw new MultiRegionAgentError(
        'TableOutsideHomeRegion',
        `ConversationTable must be in a stack of jurisdiction '${jurisdiction.name}'s home region ${jurisdiction.homeRegion} (set env.region), got ${Token.isUnresolved(stackRegion) ? 'an environment-agnostic stack' : stackRegion}`,
        this,
      );
    }
    const replicaRegions = jurisdiction.regions.filter((region) => region !== jurisdiction.homeRegion);
    const encryption = props.encryption ?? ConversationTableEncryption.awsOwned();
    const missingKeys = encryption.tableKey ? replicaRegions.filter((region) => !encryption.replicaKeyArns[region]) : [];
    if (missingKeys.length > 0) {
      throw new MultiRegionAgentError(
        'MissingReplicaKey',
        `encryption: customer-managed encryption needs a replica key ARN for ${missingKeys.join(', ')}`,
        this,
      );
    }
    if (props.strongConsistency) this.validateStrongConsistency(jurisdiction, props.witnessRegion);
    else if (props.witnessRegion)
      throw new MultiRegionAgentError(
        'WitnessWithoutStrongConsistency',
        'witnessRegion: only a strongly consistent table has a witness region; set strongConsistency',
        this,
      );

    this.jurisdiction = jurisdiction;
    this.tableName = props.tableName ?? ConversationTable.tableNameFor('agent', jurisdiction);
    this.table = new dynamodb.TableV2(this, 'Resource', {
      tableName: this.tableName,
      partitionKey: { name: TableSchema.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TableSchema.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      // DynamoDB documented no TTL for strongly consistent global tables when this was written.
      timeToLiveAttribute: props.strongConsistency ? undefined : TableSchema.ttlAttribute,
      // Said, not left to the default: the residency report and docs/residency.md state how long deleted conversations stay restorable.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: ConversationTable.POINT_IN_TIME_RECOVERY_DAYS },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      encryption: encryption.tableKey
        ? dynamodb.TableEncryptionV2.customerManagedKey(encryption.tableKey, encryption.replicaKeyArns)
        : dynamodb.TableEncryptionV2.dynamoOwnedKey(),
      replicas: replicaRegions.map((region) => ({ region })),
      // Part of the global table: it replicates with the table, to the jurisdiction's regions only.
      globalSecondaryIndexes: [
        {
          indexName: TableSchema.ownerIndex.name,
          partitionKey: { name: TableSchema.ownerIndex.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: TableSchema.ownerIndex.sortKey, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: [...TableSchema.ownerIndex.projected],
        },
      ],
      ...(props.strongConsistency ? { multiRegionConsistency: dynamodb.MultiRegionConsistency.STRONG, witnessRegion: props.witnessRegion } : {}),
    });
    if (props.strongConsistency) {
      Annotations.of(this).addWarningV2(
        'cdk-multi-region-agent:StrongConsistencyNoTtl',
        'strongConsistency: conversations will not expire by TTL on a strongly consistent table; delete old conversations yourself',
      );
    }
    this.replicaRegions = [jurisdiction.homeRegion, ...replicaRegions];
    this.witnessRegion = props.strongConsistency ? props.witnessRegion : undefined;
    this.homeTableArn = this.table.tableArn;
    this.homeKeyArn = encryption.tableKey?.keyArn;
  }

  grantConversationAccess(grantee: iam.IGrantable): iam.Grant {
    return grantTableAccess(grantee, this.homeTableArn, this.homeKeyArn, this.jurisdiction.homeRegion);
  }

  private validateStrongConsistency(jurisdiction: Jurisdiction, witnessRegion: string | undefined): void {
    // A witness replaces a third replica; DynamoDB refuses one in a replica region.
    if (witnessRegion && jurisdiction.includes(witnessRegion)) {
      throw new MultiRegionAgentError(
        'WitnessIsReplica',
        `witnessRegion: ${witnessRegion} is a replica region of jurisdiction '${jurisdiction.name}' (${jurisdiction.regions.join(', ')}); a witness must be a third region`,
        this,
      );
    }
    const regions = [...jurisdiction.regions, ...(witnessRegion ? [witnessRegion] : [])];
    if (regions.length !== 3) {
      throw new MultiRegionAgentError(
        'StrongConsistencyRegionCount',
        `strongConsistency: needs exactly three regions, or two and a witnessRegion; jurisdiction '${jurisdiction.name}' gives ${regions.join(', ')}`,
        this,
      );
    }
    if (!STRONG_CONSISTENCY_REGION_SETS.some((set) => regions.every((region) => set.includes(region)))) {
      throw new MultiRegionAgentError(
        'StrongConsistencyRegionSet',
        `strongConsistency: ${regions.join(', ')} are not all in one region set that supports it (${STRONG_CONSISTENCY_REGION_SETS.map((set) => set.join('/')).join('; ')})`,
        this,
      );
    }
    if (witnessRegion && jurisdiction.restricted) {
      Annotations.of(this).addWarningV2(
        'cdk-multi-region-agent:WitnessOutsideJurisdiction',
        `witnessRegion ${witnessRegion} is outside jurisdiction '${jurisdiction.name}'; a witness stores replication metadata, not items`,
      );
    }
  }
}

class ImportedConversationTable extends Construct implements IConversationTable {
  readonly jurisdiction: Jurisdiction;
  readonly tableName: string;
  readonly homeTableArn: string;
  readonly homeKeyArn?: string;

  constructor(scope: Construct, id: string, attrs: { jurisdiction: Jurisdiction; tableName: string; homeKeyArn?: string }) {
    super(scope, id);
    this.jurisdiction = attrs.jurisdiction;
    this.tableName = attrs.tableName;
    this.homeKeyArn = attrs.homeKeyArn;
    this.homeTableArn = Stack.of(this).formatArn({
      service: 'dynamodb',
      region: attrs.jurisdiction.homeRegion,
      resource: 'table',
      resourceName: attrs.tableName,
    });
  }

  grantConversationAccess(grantee: iam.IGrantable): iam.Grant {
    return grantTableAccess(grantee, this.homeTableArn, this.homeKeyArn, this.jurisdiction.homeRegion);
  }
}

/**
 * The table's actions on the home table, and its key's (when customer-managed) only through DynamoDB of
 * the home region: the runtime never needs the key for anything else, so the role cannot use it directly.
 */
function grantTableAccess(grantee: iam.IGrantable, tableArn: string, keyArn: string | undefined, homeRegion: string): iam.Grant {
  const grant = iam.Grant.addToPrincipal({ grantee, actions: RUNTIME_TABLE_ACTIONS, resourceArns: [tableArn] });
  iam.Grant.addToPrincipal({ grantee, actions: RUNTIME_INDEX_ACTIONS, resourceArns: [`${tableArn}/index/${TableSchema.ownerIndex.name}`] });
  if (keyArn) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: RUNTIME_KEY_ACTIONS,
        resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${homeRegion}.amazonaws.com` } },
      }),
    );
  }
  return grant;
}
