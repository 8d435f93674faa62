import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { validateRuntimeConfig } from '../../lambda/agent/config';
import { runtimeIn, testApp } from './fixtures';

/** The statements of a role's policies that name the health table. */
function healthStatements(template: Template, tableLogicalId: string, roleLogicalId: string): Array<{ Action: string[]; Resource: unknown }> {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    JSON.stringify(policy.Properties.Roles).includes(roleLogicalId),
  );
  return policies
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
    .filter((statement) => JSON.stringify(statement.Resource).includes(tableLogicalId))
    .map((statement) => ({ Action: [statement.Action].flat(), Resource: statement.Resource }));
}

test('a runtime shares target health through one regional table of its own: keyed by region and target, TTL, encrypted, without PITR, destroyed with the stack', () => {
  // GIVEN
  const runtime = runtimeIn(testApp());
  const template = Template.fromStack(Stack.of(runtime));

  // THEN the stack has the conversation table and the health table, the latter in this region only
  const tables = template.findResources('AWS::DynamoDB::GlobalTable', {
    Properties: { KeySchema: Match.arrayWith([{ AttributeName: 'scope', KeyType: 'HASH' }]) },
  });
  expect(Object.keys(tables)).toHaveLength(1);
  const [[logicalId, table]] = Object.entries(tables);
  expect(table.DeletionPolicy).toBe('Delete');
  expect(table.Properties).toMatchObject({
    KeySchema: [
      { AttributeName: 'scope', KeyType: 'HASH' },
      { AttributeName: 'target', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    // SSEEnabled false is DynamoDB's AWS-owned key: data at rest is always encrypted, with no key to manage.
    SSESpecification: { SSEEnabled: false },
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    Replicas: [{ Region: 'eu-west-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false }, DeletionProtectionEnabled: false }],
  });
  // AND its name is known at synthesis, and is the one the runtime's configuration names
  expect(runtime.healthTable?.tableName).toMatch(/^[A-Za-z0-9-]+$/);
  expect(table.Properties.TableName).toBe(runtime.healthTable?.tableName);
  expect(validateRuntimeConfig(runtime.runtimeConfig).sharedHealth).toEqual({ tableName: runtime.healthTable?.tableName, refreshMs: 3000 });
  // AND the function may Query the table and UpdateItem in it, nothing else, on nothing else
  const role = Stack.of(runtime).getLogicalId(runtime.function.role!.node.defaultChild as CfnElement);
  expect(healthStatements(template, logicalId, role)).toEqual([
    { Action: ['dynamodb:Query', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': [logicalId, 'Arn'] } },
  ]);
});

test('sharedHealth: false creates no table and configures no sharing', () => {
  const runtime = runtimeIn(testApp(), { sharedHealth: false });

  expect(runtime.healthTable).toBeUndefined();
  expect(validateRuntimeConfig(runtime.runtimeConfig).sharedHealth).toBeUndefined();
  Template.fromStack(Stack.of(runtime)).resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
});

test('settings.sharedHealthRefreshMs passes through to the configuration', () => {
  const runtime = runtimeIn(testApp(), { settings: { sharedHealthRefreshMs: 10_000 } });

  expect(validateRuntimeConfig(runtime.runtimeConfig).sharedHealth?.refreshMs).toBe(10_000);
});

test.each([500, 120_000])('throws if settings.sharedHealthRefreshMs is %d, outside 1 s to 1 min, naming the field', (refreshMs) => {
  expect(() => runtimeIn(testApp(), { settings: { sharedHealthRefreshMs: refreshMs } })).toThrow(/Invalid agent runtime configuration: sharedHealth.refreshMs/);
});
