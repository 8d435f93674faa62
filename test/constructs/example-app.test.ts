import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createExampleApp } from '../../bin/app';

const example = () => createExampleApp({ context: { 'aws:cdk:bundling-stacks': [] } });

test('the example app passes the cdk-nag AwsSolutions pack with no unacknowledged finding', () => {
  const { app } = example();

  const report = new AwsSolutionsChecks(app).validateScope(app);

  expect(
    report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.resourceLogicalId).join(', ')}`),
  ).toEqual([]);
});

test('acknowledged findings are few, each with a reason', () => {
  const { app } = example();

  const acknowledgements = app.node
    .findAll()
    .flatMap((construct) => construct.node.metadata)
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
  const rules = new Set(acknowledgements.map(([id]) => id.replace(/^[A-Za-z]+::/, '').replace(/\[.*$/, '')));
  expect([...rules].sort()).toEqual(['AwsSolutions-APIG3', 'AwsSolutions-APIG4', 'AwsSolutions-COG4', 'AwsSolutions-IAM4']);
  for (const [, reason] of acknowledgements) expect(reason.length).toBeGreaterThan(40);
});

test('point-in-time recovery is on for every replica of every table (cdk-nag does not check TableV2)', () => {
  const { agent } = example();

  for (const stack of Object.values(agent.homeStacks)) {
    const table = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable'))[0];
    for (const replica of table.Properties.Replicas) expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  }
});

test('the example deploys four regions in two jurisdictions with Claude primary and Nova as degraded fallback', () => {
  const { agent } = example();

  expect(Object.keys(agent.regionStacks).sort()).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-2']);
  const eu = agent.runtimes.find((runtime) => runtime.region === 'eu-west-1')!;
  expect(eu.runtimeConfig.chain.map((target) => `${target.tier} ${target.modelId}@${target.region}`)).toEqual([
    'primary eu.anthropic.claude-sonnet-4-5-20250929-v1:0@eu-west-1',
    'regional-fallback eu.anthropic.claude-sonnet-4-5-20250929-v1:0@eu-central-1',
    'model-fallback eu.amazon.nova-pro-v1:0@eu-west-1',
    'model-fallback eu.amazon.nova-pro-v1:0@eu-central-1',
  ]);
});
