import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ConversationTable, ConversationTableEncryption, Jurisdiction } from '../../lib';
import { ACCOUNT, flatten, testApp } from './fixtures';

const eu = () => Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-west-3']);
const homeStack = (region = 'eu-west-1') => new Stack(testApp(), 'Home', { env: { account: ACCOUNT, region } });

test("replicas are exactly the jurisdiction's other regions", () => {
  const stack = homeStack();
  new ConversationTable(stack, 'Table', { jurisdiction: eu() });

  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
  const replicas = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'))[0].Properties.Replicas as Array<{ Region: string }>;
  expect(replicas.map((replica) => replica.Region).sort()).toEqual(['eu-central-1', 'eu-west-1', 'eu-west-3']);
});

test('the table has the runtime keys, TTL, point-in-time recovery, deletion protection and retention', () => {
  const stack = homeStack();
  new ConversationTable(stack, 'Table', { jurisdiction: eu(), tableName: 'support-conversations-eu' });

  const template = Template.fromStack(stack);
  template.hasResource('AWS::DynamoDB::GlobalTable', {
    DeletionPolicy: 'Retain',
    Properties: Match.objectLike({
      TableName: 'support-conversations-eu',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      Replicas: Match.arrayWith([
        Match.objectLike({ Region: 'eu-central-1', DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        Match.objectLike({ Region: 'eu-west-1', DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ]),
    }),
  });
});

test('a customer-managed key per replica encrypts the table', () => {
  const stack = homeStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  new ConversationTable(stack, 'Table', {
    jurisdiction: eu(),
    encryption: ConversationTableEncryption.customerManaged(key, {
      'eu-central-1': `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1111`,
      'eu-west-3': `arn:aws:kms:eu-west-3:${ACCOUNT}:key/3333`,
    }),
  });

  Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    Replicas: Match.arrayWith([Match.objectLike({ Region: 'eu-west-3', SSESpecification: { KMSMasterKeyId: `arn:aws:kms:eu-west-3:${ACCOUNT}:key/3333` } })]),
  });
});

test('throws if a customer-managed key is missing for a replica region', () => {
  const stack = homeStack();
  const key = new kms.Key(stack, 'Key');

  expect(() => new ConversationTable(stack, 'Table', { jurisdiction: eu(), encryption: ConversationTableEncryption.customerManaged(key, {}) })).toThrow(
    /replica key ARN for eu-central-1, eu-west-3/,
  );
});

test("throws if the stack is not in the jurisdiction's home region", () => {
  expect(() => new ConversationTable(homeStack('eu-central-1'), 'Table', { jurisdiction: eu() })).toThrow(/home region eu-west-1 .* got eu-central-1/);
});

test('strong consistency on three regions of one region set drops TTL and warns', () => {
  const stack = homeStack();
  const table = new ConversationTable(stack, 'Table', { jurisdiction: Jurisdiction.eu(['eu-west-1', 'eu-west-2', 'eu-central-1']), strongConsistency: true });

  Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::GlobalTable', { MultiRegionConsistency: 'STRONG', TimeToLiveSpecification: Match.absent() });
  Annotations.fromStack(stack).hasWarning(`/${table.node.path}`, Match.stringLikeRegexp('will not expire by TTL'));
});

test.each([
  ['two regions and no witness', ['eu-west-1', 'eu-central-1'], undefined, /exactly three regions/],
  ['regions of no single region set', ['eu-west-1', 'eu-central-1', 'eu-north-1'], undefined, /not all in one region set/],
])('throws for strong consistency with %s', (_case, regions, witnessRegion, message) => {
  expect(() => new ConversationTable(homeStack(), 'Table', { jurisdiction: Jurisdiction.eu(regions), strongConsistency: true, witnessRegion })).toThrow(
    message,
  );
});

test('a two-region strongly consistent table has its witness in a third region', () => {
  const stack = homeStack();
  new ConversationTable(stack, 'Table', { jurisdiction: Jurisdiction.eu(['eu-west-1', 'eu-west-2']), strongConsistency: true, witnessRegion: 'eu-west-3' });

  Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    MultiRegionConsistency: 'STRONG',
    GlobalTableWitnesses: [{ Region: 'eu-west-3' }],
  });
});

test('throws if the witness region is one of the replica regions', () => {
  expect(
    () =>
      new ConversationTable(homeStack(), 'Table', {
        jurisdiction: Jurisdiction.eu(['eu-west-1', 'eu-west-2']),
        strongConsistency: true,
        witnessRegion: 'eu-west-2',
      }),
  ).toThrow(/witnessRegion: eu-west-2 is a replica region of jurisdiction 'eu'/);
});

test('throws if a witness region is given without strong consistency', () => {
  expect(() => new ConversationTable(homeStack(), 'Table', { jurisdiction: eu(), witnessRegion: 'eu-west-2' })).toThrow(
    /witnessRegion: only a strongly consistent table/,
  );
});

test("an import from another region grants exactly the runtime's actions on the home replica, without references", () => {
  // GIVEN a runtime role in eu-central-1
  const stack = homeStack('eu-central-1');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  // WHEN
  ConversationTable.fromJurisdiction(stack, 'Table', { jurisdiction: eu(), tableName: 'support-conversations-eu' }).grantConversationAccess(role);

  // THEN
  const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))[0];
  const [table, index, ...others] = policy.Properties.PolicyDocument.Statement;
  // Exactly what lambda/agent/store/dynamo-conversation-store.ts sends: on the table, and Query alone on its owner index.
  expect(table.Action.sort()).toEqual([
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ]);
  expect(flatten(table.Resource)).toBe(`arn:AWS::Partition:dynamodb:eu-west-1:${ACCOUNT}:table/support-conversations-eu`);
  expect(index.Action).toBe('dynamodb:Query');
  expect(flatten(index.Resource)).toBe(`arn:AWS::Partition:dynamodb:eu-west-1:${ACCOUNT}:table/support-conversations-eu/index/by-owner`);
  expect(others).toEqual([]);
});

test('the owner index is part of the global table: the owner and last activity as keys, projecting only what a listing shows, in every replica', () => {
  // GIVEN
  const stack = homeStack();

  // WHEN
  new ConversationTable(stack, 'Table', { jurisdiction: eu() });

  // THEN one index on the table itself (a GlobalTable's indexes exist in each of its replicas), no second table
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
  template.resourceCountIs('AWS::DynamoDB::Table', 0);
  template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    AttributeDefinitions: Match.arrayWith([
      { AttributeName: 'owner', AttributeType: 'S' },
      { AttributeName: 'updatedAt', AttributeType: 'S' },
    ]),
    GlobalSecondaryIndexes: [
      {
        IndexName: 'by-owner',
        KeySchema: [
          { AttributeName: 'owner', KeyType: 'HASH' },
          { AttributeName: 'updatedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['title', 'exchanges', 'createdAt', 'jurisdiction', 'deletedAt', 'expiresAt'] },
      },
    ],
  });
});
