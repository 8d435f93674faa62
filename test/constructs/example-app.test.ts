import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createExampleApp, EXAMPLE_AGENT } from '../../bin/app';
import { flatten } from './fixtures';

// One example app for the file: every test only reads it, so it is built and synthesized once.
let exampleApp: ReturnType<typeof createExampleApp> | undefined;
const example = () => (exampleApp ??= createExampleApp({ context: { 'aws:cdk:bundling-stacks': [] } }));

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
  // SMG4: the outside provider's key secrets, which Secrets Manager cannot rotate (the provider issues the key).
  expect([...rules].sort()).toEqual(['AwsSolutions-APIG3', 'AwsSolutions-APIG4', 'AwsSolutions-COG4', 'AwsSolutions-IAM4', 'AwsSolutions-SMG4']);
  for (const [, reason] of acknowledgements) expect(reason.length).toBeGreaterThan(40);
});

test('point-in-time recovery is on for every replica of every table, keeping 35 days (cdk-nag does not check TableV2)', () => {
  const { agent } = example();

  for (const stack of Object.values(agent.homeStacks)) {
    const table = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable'))[0];
    for (const replica of table.Properties.Replicas) {
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 });
    }
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

test("the example's US chain ends with OpenAI's GPT-4o of a US data-residency project, and the EU chain has no outside provider", () => {
  const { agent } = example();

  const us = agent.runtimes.find((runtime) => runtime.region === 'us-west-2')!;
  expect(us.runtimeConfig.chain.at(-1)).toMatchObject({
    tier: 'provider-fallback',
    modelId: 'gpt-4o',
    region: 'us-west-2',
    provider: { name: 'openai', residency: 'us' },
  });
  for (const runtime of agent.runtimes.filter((candidate) => candidate.jurisdiction.name === 'eu')) expect(runtime.providerTargets).toEqual([]);
});

test("the example's agent is the support agent's code, with its instructions and refund_policy, and lookup_order as a Lambda tool", () => {
  const { agent } = example();

  for (const runtime of agent.runtimes) {
    expect(runtime.agentManifest).toMatchObject({
      maxSteps: 6,
      tools: [expect.objectContaining({ name: 'refund_policy' }), expect.objectContaining({ name: 'issue_refund' })],
    });
    expect(runtime.agentManifest!.instructionsBytes).toBeGreaterThan(2000);
    expect(runtime.lambdaTools.map((tool) => tool.name)).toEqual(['lookup_order']);
    expect(JSON.parse(fs.readFileSync(path.join(runtime.codeDirectory, 'lambda-tools.json'), 'utf8'))).toEqual([
      expect.objectContaining({ name: 'lookup_order', timeoutMs: 5000, inputSchema: expect.objectContaining({ required: ['orderId'] }) }),
    ]);
  }
});

test('each region deploys its own lookup_order function, on Node.js 24 arm64 with its own log group and a role that writes only to it', () => {
  const { agent } = example();

  for (const runtime of agent.runtimes) {
    const stack = Stack.of(runtime);
    const [tool] = runtime.lambdaTools;
    expect(Stack.of(tool.function)).toBe(stack);
    expect(tool.function.node.path).toBe(`support-agent-${runtime.region}/Tools/LookupOrder`);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: `Support agent tool lookup_order (${runtime.region})`,
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    const role = Object.values(
      template.findResources('AWS::IAM::Role', { Properties: { Description: `Support agent tool lookup_order (${runtime.region})` } }),
    )[0];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = role.Properties.Policies.flatMap((policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement);
    expect(statements).toEqual([expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] })]);
    expect(flatten(statements)).not.toContain('*');
  }
});

test("each region deploys its own delivery MCP server behind an IAM function URL, which only that region's runtime may invoke, signing with SigV4", () => {
  const { agent } = example();

  for (const runtime of agent.runtimes) {
    const template = Template.fromStack(Stack.of(runtime));
    const [serverId] = Object.keys(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: `Support agent MCP server delivery (${runtime.region})` } }),
    );
    expect(serverId).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [serverId, 'Arn'] } });
    const [urlId] = Object.keys(template.findResources('AWS::Lambda::Url'));
    // The runtime's role: exactly lambda:InvokeFunctionUrl on exactly this function.
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>,
    );
    expect(policies.filter((statement) => JSON.stringify(statement.Action).includes('InvokeFunctionUrl'))).toEqual([
      expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Resource: { 'Fn::GetAtt': [serverId, 'Arn'] } }),
    ]);
    // Its URL is known at deployment only: the runtime reads it from its environment.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { AGENT_MCP_URLS: { 'Fn::Join': ['', ['{"delivery":"', { 'Fn::GetAtt': [urlId, 'FunctionUrl'] }, '"}']] } } },
    });
    const servers = JSON.parse(fs.readFileSync(path.join(runtime.codeDirectory, 'mcp-servers.json'), 'utf8'));
    expect(servers).toEqual([
      expect.objectContaining({
        name: 'delivery',
        region: runtime.region,
        auth: { kind: 'sigv4', service: 'lambda', region: runtime.region },
        needsApproval: ['reschedule_delivery'],
      }),
    ]);
  }
});

test("exports what the local playground needs to run the example without AWS: the entry and each Lambda tool's handler module", () => {
  expect(fs.existsSync(EXAMPLE_AGENT.entry)).toBe(true);
  expect(Object.keys(EXAMPLE_AGENT.lambdaToolHandlers)).toEqual(['lookup_order']);
  expect(fs.existsSync(EXAMPLE_AGENT.lambdaToolHandlers.lookup_order)).toBe(true);
});
