import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { CloudAssembly, CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  AgentAuthorization,
  AgentRuntime,
  BedrockModel,
  ConversationTable,
  ConversationTableEncryption,
  Jurisdiction,
  ModelChain,
  type AgentRuntimeProps,
} from '../../lib';
import { validateRuntimeConfig } from '../../lambda/agent/config';
import { ACCOUNT, chain, flatten, RECORD, testApp, ZONE } from './fixtures';

const EU = () => Jurisdiction.eu(['eu-west-1', 'eu-central-1']);

/** A user's own stacks: the table in the home region, a runtime in another region. */
function composed(props: Partial<AgentRuntimeProps> = {}, region = 'eu-central-1'): { app: App; stack: Stack; runtime: AgentRuntime; template: Template } {
  const app = testApp();
  const jurisdiction = props.jurisdiction ?? EU();
  const home = new Stack(app, 'TableStack', { env: { account: ACCOUNT, region: jurisdiction.homeRegion } });
  const table = new ConversationTable(home, 'Conversations', { jurisdiction });
  const stack = new Stack(app, 'RuntimeStack', { env: { account: ACCOUNT, region } });
  const runtime = new AgentRuntime(stack, 'Runtime', {
    jurisdiction,
    chain: chain(),
    // The README's composition: the table construct itself, referenced by name.
    table,
    recordName: RECORD,
    hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', ZONE),
    ...props,
  });
  let template: Template | undefined;
  // Synthesized on first use, so that a test can still add to the stack before asserting.
  return {
    app,
    stack,
    runtime,
    get template() {
      return (template ??= Template.fromStack(stack));
    },
  };
}

/** The stacks (not asset manifests) a stack of the assembly is deployed after, sorted. */
function stacksBefore(assembly: CloudAssembly, stackName: string): string[] {
  return assembly
    .getStackByName(stackName)
    .dependencies.filter((dependency) => dependency instanceof CloudFormationStackArtifact)
    .map((dependency) => dependency.id)
    .sort();
}

function bedrockStatements(template: Template): Array<{ Action: string[]; Resource: unknown; Condition?: unknown; Sid?: string }> {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
    .filter((statement: { Action: string | string[] }) => [statement.Action].flat().some((action) => action.startsWith('bedrock:')));
}

test('AgentRuntime and ConversationTable compose in your own stacks, the runtime deployed after its table by construction', () => {
  // GIVEN / WHEN
  const { app, runtime } = composed();

  // THEN
  const assembly = app.synth();
  expect(assembly.stacks.map((stack) => stack.stackName).sort()).toEqual(['RuntimeStack', 'TableStack']);
  expect(stacksBefore(assembly, 'RuntimeStack')).toEqual(['TableStack']);
  expect(runtime.domains).toBeDefined();
});

test('the table of another region is referenced by name: no cross-stack export, no import', () => {
  const { app } = composed();

  const assembly = app.synth();

  expect(JSON.stringify(assembly.getStackByName('RuntimeStack').template)).not.toMatch(/Fn::ImportValue/);
  expect(JSON.stringify(assembly.getStackByName('TableStack').template)).not.toMatch(/"Outputs"|Export/);
});

/** The README's other composition: the table imported by name into the runtime's stack. */
function composedWithImport(options: { dependency: boolean }): App {
  const app = testApp();
  const jurisdiction = EU();
  const home = new Stack(app, 'TableStack', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const table = new ConversationTable(home, 'Conversations', { jurisdiction, tableName: 'my-agent-conversations-eu' });
  const stack = new Stack(app, 'RuntimeStack', { env: { account: ACCOUNT, region: 'eu-central-1' } });
  if (options.dependency) stack.addStackDependency(home);
  new AgentRuntime(stack, 'Runtime', {
    jurisdiction,
    chain: chain(),
    table: ConversationTable.fromJurisdiction(stack, 'Table', { jurisdiction, tableName: table.tableName }),
  });
  return app;
}

test("an imported table defined in a stack the runtime's stack does not depend on is refused at synthesis, naming both stacks and the fix", () => {
  // GIVEN
  const app = composedWithImport({ dependency: false });

  // WHEN / THEN
  expect(() => app.synth()).toThrow(
    /RuntimeStack\/Runtime: table: 'my-agent-conversations-eu' is defined in stack TableStack, which stack RuntimeStack does not depend on.*Fix: RuntimeStack.addStackDependency\(TableStack\)/,
  );
});

test("an imported table is accepted once the runtime's stack depends on the table's", () => {
  // GIVEN
  const direct = composedWithImport({ dependency: true });

  // WHEN / THEN
  expect(stacksBefore(direct.synth(), 'RuntimeStack')).toEqual(['TableStack']);
});

test("the refusal error is the library's, with a stable code", () => {
  const app = composedWithImport({ dependency: false });

  expect(() => app.synth()).toThrow(expect.objectContaining({ name: 'MultiRegionAgentError', code: 'MissingTableDependency' }));
});

test('a table with a customer-managed key in another region is refused: its key ARN cannot cross regions', () => {
  // GIVEN
  const app = testApp();
  const jurisdiction = EU();
  const home = new Stack(app, 'TableStack', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const key = new kms.Key(home, 'Key');
  const table = new ConversationTable(home, 'Conversations', {
    jurisdiction,
    encryption: ConversationTableEncryption.customerManaged(key, { 'eu-central-1': `arn:aws:kms:eu-central-1:${ACCOUNT}:key/replica` }),
  });
  const stack = new Stack(app, 'RuntimeStack', { env: { account: ACCOUNT, region: 'eu-central-1' } });

  // WHEN / THEN
  expect(() => new AgentRuntime(stack, 'Runtime', { jurisdiction, chain: chain(), table })).toThrow(
    /table: its customer-managed key is a reference into stack TableStack \(eu-west-1\), which cannot cross regions/,
  );
});

/** Two runtimes of one account and region: the first registers API Gateway's logging role, the second leaves it. */
function twoAgentsInOneRegion(options: { secondDependsOnFirst?: boolean; firstDependsOnSecond?: boolean } = {}): { app: App; first: Stack; second: Stack } {
  const app = testApp();
  const jurisdiction = EU();
  const home = new Stack(app, 'TableStack', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const table = new ConversationTable(home, 'Conversations', { jurisdiction });
  const runtimeIn = (id: string, manageApiGatewayAccount: boolean) => {
    const stack = new Stack(app, id, { env: { account: ACCOUNT, region: 'eu-central-1' } });
    new AgentRuntime(stack, 'Runtime', { jurisdiction, chain: chain(), table, manageApiGatewayAccount });
    return stack;
  };
  // The one leaving the registration alone is created first: the order of construction must not matter.
  const second = runtimeIn('SecondAgent', false);
  const first = runtimeIn('FirstAgent', true);
  if (options.firstDependsOnSecond) first.addStackDependency(second);
  return { app, first, second };
}

test('with manageApiGatewayAccount: false, the stack is deployed after the stack of the same app, account and region that registers the logging role', () => {
  // GIVEN
  const { app } = twoAgentsInOneRegion();

  // WHEN
  const assembly = app.synth();

  // THEN
  expect(stacksBefore(assembly, 'SecondAgent')).toEqual(['FirstAgent', 'TableStack']);
  expect(stacksBefore(assembly, 'FirstAgent')).toEqual(['TableStack']);
  Template.fromJSON(assembly.getStackByName('FirstAgent').template).resourceCountIs('AWS::ApiGateway::Account', 1);
  Template.fromJSON(assembly.getStackByName('SecondAgent').template).resourceCountIs('AWS::ApiGateway::Account', 0);
});

test('with manageApiGatewayAccount: false, an order that cannot be right (the registering stack depends on this one) is refused with the fix', () => {
  const { app } = twoAgentsInOneRegion({ firstDependsOnSecond: true });

  expect(() => app.synth()).toThrow(
    /SecondAgent\/Runtime: manageApiGatewayAccount: false leaves API Gateway's logging role of 123456789012\/eu-central-1 to stack FirstAgent, which must be deployed first, but it depends on stack SecondAgent\. Fix:/,
  );
});

test('with manageApiGatewayAccount: false and no stack of the app registering the logging role (a landing zone owns it), nothing is added', () => {
  const { app } = composed({ manageApiGatewayAccount: false });

  const assembly = app.synth();

  expect(stacksBefore(assembly, 'RuntimeStack')).toEqual(['TableStack']);
});

test('a registration of another region or account is not a dependency', () => {
  // GIVEN
  const app = testApp();
  const jurisdiction = EU();
  const home = new Stack(app, 'TableStack', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const table = new ConversationTable(home, 'Conversations', { jurisdiction });
  new AgentRuntime(home, 'Runtime', { jurisdiction, chain: chain(), table });
  const other = new Stack(app, 'OtherRegion', { env: { account: ACCOUNT, region: 'eu-central-1' } });
  new AgentRuntime(other, 'Runtime', { jurisdiction, chain: chain(), table, manageApiGatewayAccount: false });

  // WHEN
  const assembly = app.synth();

  // THEN
  expect(stacksBefore(assembly, 'OtherRegion')).toEqual(['TableStack']);
});

test('the function is Node 22+ on arm64 with documented memory and timeout, and carries a valid configuration', () => {
  const { template, runtime } = composed();

  template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 1024, Timeout: 120 });
  const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
  const config = validateRuntimeConfig(JSON.parse(fn.Properties.Environment.Variables.AGENT_CONFIG));
  expect(config).toMatchObject({
    region: 'eu-central-1',
    jurisdiction: { name: 'eu', regions: ['eu-west-1', 'eu-central-1'], restricted: true },
    table: { name: 'agent-conversations-eu', homeRegion: 'eu-west-1' },
    jurisdictionHosts: { eu: 'eu.agent.example.com' },
  });
  expect(config.chain[0]).toEqual({ modelId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'eu-central-1', tier: 'primary', promptCaching: true });
  expect(config.prices['eu.anthropic.claude-sonnet-4-5-20250929-v1:0']).toEqual({ inputPer1kTokens: 0.003, outputPer1kTokens: 0.015 });
  expect(runtime.runtimeConfig).toEqual(JSON.parse(fn.Properties.Environment.Variables.AGENT_CONFIG));
});

test("each chain target carries its model's prompt caching, and says nothing for a model without it", () => {
  // GIVEN Claude (prompt caching) then a model that does not read cache points
  const mistral = BedrockModel.of('mistral.mistral-large-2407-v1:0');
  const { runtime } = composed({ chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, mistral) });

  // WHEN
  const targets = runtime.runtimeConfig.chain;

  // THEN
  expect(targets.filter((target) => target.modelId.includes('claude')).every((target) => target.promptCaching === true)).toBe(true);
  for (const target of targets.filter((candidate) => candidate.modelId.startsWith('mistral.'))) expect(target).not.toHaveProperty('promptCaching');
});

test("the retry budget passes through to the configuration, and defaults to 20 % per 10 s, the region's floor to 10 a second (Finagle's), the environment's left to the runtime (3, or one walk of a longer chain)", () => {
  const { runtime } = composed({ settings: { retryBudget: { ratio: 0.1, windowMs: 30_000, minPerWindow: 3, regionMinPerSecond: 2.5 } } });

  expect(validateRuntimeConfig(runtime.runtimeConfig).retryBudget).toEqual({
    enabled: true,
    ratio: 0.1,
    minPerWindow: 3,
    windowMs: 30_000,
    regionMinPerSecond: 2.5,
  });
  expect(validateRuntimeConfig(composed().runtime.runtimeConfig).retryBudget).toEqual({ enabled: true, ratio: 0.2, windowMs: 10_000, regionMinPerSecond: 10 });
});

test('hedging is off unless settings.hedge is given, and then defaults to 1 s and a cap of 10 % with a burst of 10', () => {
  expect(validateRuntimeConfig(composed().runtime.runtimeConfig).hedge).toBeUndefined();
  expect(validateRuntimeConfig(composed({ settings: { hedge: { percentile: 95 } } }).runtime.runtimeConfig).hedge).toEqual({
    afterMs: 1000,
    percentile: 95,
    maxRatio: 0.1,
    burst: 10,
  });
});

test('historyBytes and limits.toolResultBytes pass through to the configuration', () => {
  const { runtime } = composed({ settings: { historyBytes: 50_000, limits: { toolResultBytes: 8192 } } });

  const config = validateRuntimeConfig(runtime.runtimeConfig);
  expect(config.table.historyBytes).toBe(50_000);
  expect(config.limits.toolResultBytes).toBe(8192);
});

test('limits.approvalTtlSeconds sets how long a tool call waits for approval (24 hours unless told)', () => {
  expect(validateRuntimeConfig(composed().runtime.runtimeConfig).limits.approvalTtlSeconds).toBe(86_400);
  const { runtime } = composed({ settings: { limits: { approvalTtlSeconds: 3600 } } });

  expect(validateRuntimeConfig(runtime.runtimeConfig).limits.approvalTtlSeconds).toBe(3600);
});

test('throws if limits.approvalTtlSeconds is not a whole number of seconds up to 30 days, naming the setting', () => {
  expect(() => composed({ settings: { limits: { approvalTtlSeconds: 0.5 } } })).toThrow(/limits\.approvalTtlSeconds/);
  expect(() => composed({ settings: { limits: { approvalTtlSeconds: 31 * 86_400 } } })).toThrow(/limits\.approvalTtlSeconds/);
});

test("no Bedrock statement has a wildcard resource; foundation models are reachable only through the chain's profiles", () => {
  const { template } = composed();

  const statements = bedrockStatements(template);
  expect(statements.length).toBeGreaterThan(0);
  for (const statement of statements) {
    expect(statement.Action.sort()).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    const resources = [statement.Resource].flat().map(flatten);
    expect(resources).not.toContain('*');
    const models = resources.filter((resource) => resource.includes(':foundation-model/')).map((resource) => resource.split('/')[1]);
    if (models.length > 0) {
      const profiles = [(statement.Condition as Record<string, Record<string, unknown>>).StringEquals['bedrock:InferenceProfileArn']].flat().map(flatten);
      expect(new Set(profiles.map((profile) => profile.split('/eu.')[1]))).toEqual(new Set(models));
    }
  }
  const profiles = statements.find((statement) => statement.Sid === 'InvokeInferenceProfiles')!;
  expect([profiles.Resource].flat().map(flatten).sort()).toEqual(
    [
      `arn:AWS::Partition:bedrock:eu-central-1:${ACCOUNT}:inference-profile/eu.amazon.nova-pro-v1:0`,
      `arn:AWS::Partition:bedrock:eu-central-1:${ACCOUNT}:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0`,
      `arn:AWS::Partition:bedrock:eu-west-1:${ACCOUNT}:inference-profile/eu.amazon.nova-pro-v1:0`,
      `arn:AWS::Partition:bedrock:eu-west-1:${ACCOUNT}:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0`,
    ].sort(),
  );
});

test("an EU runtime's policy names no US resource", () => {
  const { template } = composed();

  const policies = flatten(Object.values(template.findResources('AWS::IAM::Policy')).map((policy) => policy.Properties.PolicyDocument));
  expect(policies).not.toMatch(/us-(east|west)-\d|:us\.|global\./);
});

test('a model without a profile in the geography is granted in-region by its own ARN only', () => {
  const { template } = composed({ chain: ModelChain.of(BedrockModel.of('mistral.mistral-large-2407-v1:0')) });

  const statement = bedrockStatements(template).find((candidate) => candidate.Sid === 'InvokeInRegionModels')!;
  expect([statement.Resource].flat().map(flatten).sort()).toEqual([
    'arn:AWS::Partition:bedrock:eu-central-1::foundation-model/mistral.mistral-large-2407-v1:0',
    'arn:AWS::Partition:bedrock:eu-west-1::foundation-model/mistral.mistral-large-2407-v1:0',
  ]);
  expect(statement.Condition).toBeUndefined();
});

test("a runtime outside its unrestricted jurisdiction's geography calls the model in-region, not through that geography's profile", () => {
  const atlantic = Jurisdiction.custom({ name: 'atlantic', geography: 'eu', restricted: false, regions: ['eu-west-1', 'us-east-1'] });
  const { template, runtime } = composed({ jurisdiction: atlantic, chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5) }, 'us-east-1');

  expect(runtime.runtimeConfig.chain.map((target) => `${target.modelId}@${target.region}`)).toEqual([
    'anthropic.claude-sonnet-4-5-20250929-v1:0@us-east-1',
    'eu.anthropic.claude-sonnet-4-5-20250929-v1:0@eu-west-1',
  ]);
  const statements = bedrockStatements(template);
  expect([statements.find((statement) => statement.Sid === 'InvokeInRegionModels')!.Resource].flat().map(flatten)).toEqual([
    'arn:AWS::Partition:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
  ]);
  expect([statements.find((statement) => statement.Sid === 'InvokeInferenceProfiles')!.Resource].flat().map(flatten)).toEqual([
    `arn:AWS::Partition:bedrock:eu-west-1:${ACCOUNT}:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0`,
  ]);
});

test("the conversation table grant names only the jurisdiction's home replica and its owner index; the other DynamoDB grant is the region's health table", () => {
  const { template, runtime, stack } = composed();

  const runtimeRole = stack.getLogicalId(runtime.function.role!.node.defaultChild as CfnElement);
  const dynamo = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(runtimeRole))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
    .filter((statement: { Action: string[] }) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
  expect(dynamo).toHaveLength(3);
  expect(flatten(dynamo[0].Resource)).toBe(`arn:AWS::Partition:dynamodb:eu-west-1:${ACCOUNT}:table/agent-conversations-eu`);
  expect(dynamo[1]).toMatchObject({ Action: 'dynamodb:Query' });
  expect(flatten(dynamo[1].Resource)).toBe(`arn:AWS::Partition:dynamodb:eu-west-1:${ACCOUNT}:table/agent-conversations-eu/index/by-owner`);
  const healthTable = stack.getLogicalId(runtime.healthTable!.table.node.defaultChild as CfnElement);
  expect(dynamo[2].Resource).toEqual({ 'Fn::GetAtt': [healthTable, 'Arn'] });
});

test('the messages route streams from Lambda through InvokeWithResponseStream, with IAM authorization and a validated body', () => {
  const { template } = composed();

  template.hasResourceProperties('AWS::ApiGateway::Method', {
    HttpMethod: 'POST',
    AuthorizationType: 'AWS_IAM',
    RequestValidatorId: Match.anyValue(),
    RequestModels: { 'application/json': Match.anyValue() },
    Integration: Match.objectLike({
      Type: 'AWS_PROXY',
      ResponseTransferMode: 'STREAM',
      TimeoutInMillis: 120_000,
      Uri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('response-streaming-invocations')])] }),
    }),
  });
  template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  template.hasResourceProperties('AWS::ApiGateway::Model', { Schema: Match.objectLike({ required: ['text'], additionalProperties: false }) });
});

test('GET and HEAD /health need no credentials; the conversation routes do', () => {
  const { template } = composed();

  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map(
    (method) => `${method.Properties.HttpMethod} ${method.Properties.AuthorizationType}`,
  );
  expect(methods.sort()).toEqual([
    'DELETE AWS_IAM',
    'DELETE AWS_IAM',
    'GET AWS_IAM',
    'GET AWS_IAM',
    'GET AWS_IAM',
    'GET NONE',
    'HEAD AWS_IAM',
    'HEAD NONE',
    'POST AWS_IAM',
    'POST AWS_IAM',
    'POST AWS_IAM',
  ]);
});

/** The methods of the /health resource, by HTTP method. */
interface MethodProperties {
  readonly HttpMethod: string;
  readonly Integration: {
    readonly Type: string;
    readonly Uri?: unknown;
    readonly RequestTemplates: Record<string, string>;
    readonly IntegrationResponses: Array<{ readonly StatusCode: string; readonly ResponseTemplates: Record<string, string> }>;
  };
  readonly MethodResponses: unknown;
}

function healthMethods(template: Template): Record<string, { Properties: MethodProperties }> {
  const [healthId] = Object.entries(template.findResources('AWS::ApiGateway::Resource')).find(([, resource]) => resource.Properties.PathPart === 'health')!;
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: healthId } } }));
  return Object.fromEntries(methods.map((method) => [method.Properties.HttpMethod, method]));
}

test.each(['GET', 'HEAD'])('%s /health is answered by API Gateway itself (MOCK), with no Lambda behind it', (httpMethod) => {
  // GIVEN
  const { template } = composed();

  // WHEN
  const method = healthMethods(template)[httpMethod];

  // THEN
  expect(method.Properties.Integration).toMatchObject({ Type: 'MOCK', PassthroughBehavior: 'NEVER' });
  expect(method.Properties.Integration.Uri).toBeUndefined();
  expect(JSON.parse(method.Properties.Integration.RequestTemplates['application/json'])).toEqual({ statusCode: 200 });
  const [response] = method.Properties.Integration.IntegrationResponses;
  expect(response.StatusCode).toBe('200');
  expect(JSON.parse(response.ResponseTemplates['application/json'])).toEqual({ status: 'ok', region: 'eu-central-1', jurisdiction: 'eu' });
  expect(method.Properties.MethodResponses).toEqual([{ StatusCode: '200' }]);
});

test('HEAD /health is configured exactly like GET /health', () => {
  const { template } = composed();

  const { GET, HEAD } = healthMethods(template);

  expect({ ...HEAD.Properties, HttpMethod: 'GET' }).toEqual(GET.Properties);
});

test('/health has its own throttle, separate from the stage default that the agent routes draw on', () => {
  // GIVEN
  const { template } = composed({ throttling: { rateLimit: 200, burstLimit: 400 }, healthThrottling: { rateLimit: 5, burstLimit: 8 } });

  // WHEN
  const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0];

  // THEN
  const settings = Object.fromEntries(
    (stage.Properties.MethodSettings as Array<Record<string, unknown>>).map((setting) => [`${setting.ResourcePath} ${setting.HttpMethod}`, setting]),
  );
  expect(Object.keys(settings).sort()).toEqual(['/* *', '/~1health GET', '/~1health HEAD']);
  expect(settings['/* *']).toMatchObject({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 });
  for (const key of ['/~1health GET', '/~1health HEAD']) {
    expect(settings[key]).toMatchObject({
      ThrottlingRateLimit: 5,
      ThrottlingBurstLimit: 8,
      LoggingLevel: 'ERROR',
      DataTraceEnabled: false,
      MetricsEnabled: true,
    });
  }
});

test('/health is throttled at 10 requests per second (burst 20) by default', () => {
  const { template } = composed();

  template.hasResourceProperties('AWS::ApiGateway::Stage', {
    MethodSettings: Match.arrayWith([
      Match.objectLike({ ResourcePath: '/~1health', HttpMethod: 'GET', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }),
      Match.objectLike({ ResourcePath: '/~1health', HttpMethod: 'HEAD', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }),
    ]),
  });
});

test("grantInvoke gives an IAM principal execute-api:Invoke on exactly the agent's routes of this API, in this account and region", () => {
  // GIVEN
  const { stack, runtime } = composed();
  const caller = new iam.User(stack, 'Caller');

  // WHEN
  runtime.grantInvoke(caller);

  // THEN
  const template = Template.fromStack(stack);
  const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Users: [{ Ref: Match.stringLikeRegexp('^Caller') }] } }))[0];
  const statements = policy.Properties.PolicyDocument.Statement;
  expect(statements).toHaveLength(1);
  expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
  const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
  const stageId = Object.keys(template.findResources('AWS::ApiGateway::Stage'))[0];
  const resources = [statements[0].Resource].flat();
  // The API and its stage are referenced; account and region are this stack's, never '*'.
  expect(resources.map(flatten).sort()).toEqual(
    [
      'DELETE/v1/conversations',
      'DELETE/v1/conversations/*',
      'GET/v1/conversations',
      'GET/v1/conversations/*',
      'GET/v1/export',
      'HEAD/v1/conversations/*',
      'POST/v1/conversations',
      'POST/v1/conversations/*/approvals/*',
      'POST/v1/conversations/*/messages',
    ].map((route) => `arn:AWS::Partition:execute-api:eu-central-1:${ACCOUNT}:${apiId}/${stageId}/${route}`),
  );
  for (const resource of resources) expect(JSON.stringify(resource)).toContain(`{"Ref":"${stageId}"}`);
});

test('grantInvoke works through the API construct too, for a role, and grants nothing on /health', () => {
  // GIVEN
  const { stack, runtime } = composed();
  const role = new iam.Role(stack, 'CallerRole', { assumedBy: new iam.AccountPrincipal(ACCOUNT) });

  // WHEN
  runtime.agentApi.grantInvoke(role);

  // THEN
  const policy = Object.values(
    Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CallerRole') }] } }),
  )[0];
  const arns = [policy.Properties.PolicyDocument.Statement[0].Resource].flat().map(flatten);
  expect(arns).toHaveLength(9);
  expect(arns.join(' ')).not.toContain('/health');
});

/** The methods of the API resource at `path`, by HTTP method. */
function methodsAt(template: Template, path: string): Record<string, Record<string, unknown>> {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const parent = resources[id]?.Properties.ParentId;
    return `${parent?.Ref && resources[parent.Ref] ? pathOf(parent.Ref) : ''}/${resources[id].Properties.PathPart}`;
  };
  const id = Object.keys(resources).find((candidate) => pathOf(candidate) === path)!;
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: id } } }));
  return Object.fromEntries(methods.map((method) => [method.Properties.HttpMethod, method.Properties]));
}

test('HEAD on a conversation has the same authorization, parameters and validation as GET, and reaches the runtime', () => {
  const { template } = composed();

  const { GET, HEAD } = methodsAt(template, '/v1/conversations/{conversationId}');

  expect({ ...HEAD, HttpMethod: 'GET' }).toEqual(GET);
  expect(HEAD).toMatchObject({
    AuthorizationType: 'AWS_IAM',
    RequestParameters: { 'method.request.path.conversationId': true },
    RequestValidatorId: { Ref: expect.stringMatching(/RequestValidator/) },
    Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' },
  });
});

test('POST /v1/conversations mints conversations: authorized like the other routes, streamed to the runtime, with no request model', () => {
  const { template } = composed();

  const { POST } = methodsAt(template, '/v1/conversations');

  expect(POST).toMatchObject({ AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' } });
  expect(POST.RequestModels).toBeUndefined();
  expect(POST.RequestValidatorId).toBeUndefined();
});

test('the message route declares no headers, so the optional Idempotency-Key header is passed to the runtime, not validated away', () => {
  const { template } = composed();

  const { POST } = methodsAt(template, '/v1/conversations/{conversationId}/messages');

  expect(Object.keys(POST.RequestParameters as object)).toEqual(['method.request.path.conversationId']);
  expect(POST.Integration).toMatchObject({ Type: 'AWS_PROXY' });
});

test('the approval route is authorized like the message route, streamed to the runtime, with a validated body', () => {
  const { template } = composed();

  const { POST } = methodsAt(template, '/v1/conversations/{conversationId}/approvals/{toolUseId}');
  const message = methodsAt(template, '/v1/conversations/{conversationId}/messages').POST;

  expect(POST).toMatchObject({
    AuthorizationType: message.AuthorizationType,
    Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' },
    RequestParameters: { 'method.request.path.conversationId': true, 'method.request.path.toolUseId': true },
    RequestValidatorId: message.RequestValidatorId,
  });
  expect(POST.AuthorizationType).toBe('AWS_IAM');
  template.hasResourceProperties('AWS::ApiGateway::Model', {
    Schema: Match.objectLike({ required: ['approved'], additionalProperties: false, properties: { approved: { type: 'boolean' }, reason: Match.anyValue() } }),
  });
});

test('a Cognito user pool can authorize callers instead', () => {
  const poolStack = new Stack(testApp(), 'Pool', { env: { account: ACCOUNT, region: 'eu-central-1' } });
  const pool = cognito.UserPool.fromUserPoolArn(poolStack, 'Users', `arn:aws:cognito-idp:eu-central-1:${ACCOUNT}:userpool/eu-central-1_abc`);
  const { template } = composed({ authorization: AgentAuthorization.cognito(pool) });

  template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
  const authorizations = Object.values(template.findResources('AWS::ApiGateway::Method')).map(
    (method) => `${method.Properties.HttpMethod} ${method.Properties.AuthorizationType}`,
  );
  expect(authorizations.sort()).toEqual([
    'DELETE COGNITO_USER_POOLS',
    'DELETE COGNITO_USER_POOLS',
    'GET COGNITO_USER_POOLS',
    'GET COGNITO_USER_POOLS',
    'GET COGNITO_USER_POOLS',
    'GET NONE',
    'HEAD COGNITO_USER_POOLS',
    'HEAD NONE',
    'POST COGNITO_USER_POOLS',
    'POST COGNITO_USER_POOLS',
    'POST COGNITO_USER_POOLS',
  ]);
});

test('an owner lists, deletes, erases and exports through authorized routes; the listing passes its optional limit and cursor on', () => {
  const { template } = composed();

  const list = methodsAt(template, '/v1/conversations');
  const one = methodsAt(template, '/v1/conversations/{conversationId}');
  const exported = methodsAt(template, '/v1/export');

  for (const method of [list.GET, list.DELETE, one.DELETE, exported.GET]) {
    expect(method).toMatchObject({ AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' } });
  }
  expect(list.GET.RequestParameters).toEqual({ 'method.request.querystring.limit': false, 'method.request.querystring.cursor': false });
  expect(one.DELETE.RequestParameters).toEqual({ 'method.request.path.conversationId': true });
});

describe('grantInvokeOnBehalfOfUsers', () => {
  /** The runtime function's on-behalf callers, as CloudFormation will write them (the ARNs as references). */
  const onBehalfCallers = (template: Template): unknown => {
    const [agentFunction] = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { AGENT_CONFIG: Match.anyValue() } } } }),
    );
    return agentFunction.Properties.Environment.Variables.AGENT_ON_BEHALF_CALLERS;
  };

  test("names the backend's role, and only it, in the runtime's on-behalf callers; a plain grantInvoke names none", () => {
    // GIVEN a backend that acts for its users, and a reporting job that does not
    const { stack, runtime } = composed();
    const backend = new iam.Role(stack, 'Backend', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const reporting = new iam.Role(stack, 'Reporting', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // WHEN
    runtime.grantInvokeOnBehalfOfUsers(backend);
    runtime.grantInvoke(reporting);

    // THEN the runtime's list holds the backend's role ARN (resolved at deployment) and nothing else
    const template = Template.fromStack(stack);
    const backendId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('Backend'))!;
    expect(onBehalfCallers(template)).toEqual({ 'Fn::Join': ['', ['["', { 'Fn::GetAtt': [backendId, 'Arn'] }, '"]']] });
    expect(JSON.stringify(onBehalfCallers(template))).not.toContain('Reporting');
    // AND both invoke exactly the same routes: the header, not IAM, is what the on-behalf grant adds
    const invokeOf = (prefix: string) =>
      Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${prefix}`) }] } }))[0].Properties
        .PolicyDocument.Statement;
    expect(invokeOf('Backend')).toEqual(invokeOf('Reporting'));
    expect(invokeOf('Backend')[0].Action).toBe('execute-api:Invoke');
  });

  test('without the grant the runtime has no on-behalf callers at all', () => {
    const { template } = composed();

    expect(onBehalfCallers(template)).toBeUndefined();
  });

  test('two grants list both roles once each', () => {
    const { stack, runtime } = composed();
    const first = new iam.Role(stack, 'First', { assumedBy: new iam.AccountPrincipal(ACCOUNT) });
    const second = iam.Role.fromRoleArn(stack, 'Second', `arn:aws:iam::${ACCOUNT}:role/service/other-backend`);

    runtime.grantInvokeOnBehalfOfUsers(first);
    runtime.grantInvokeOnBehalfOfUsers(second);
    runtime.grantInvokeOnBehalfOfUsers(first);

    const value = onBehalfCallers(Template.fromStack(stack)) as { 'Fn::Join': [string, unknown[]] };
    expect(JSON.stringify(value)).toContain(`arn:aws:iam::${ACCOUNT}:role/service/other-backend`);
    expect(value['Fn::Join'][1].filter((part) => JSON.stringify(part).includes('First'))).toHaveLength(1);
  });

  test('throws if the API authorizes Cognito users', () => {
    const poolStack = new Stack(testApp(), 'Pool', { env: { account: ACCOUNT, region: 'eu-central-1' } });
    const pool = cognito.UserPool.fromUserPoolArn(poolStack, 'Users', `arn:aws:cognito-idp:eu-central-1:${ACCOUNT}:userpool/eu-central-1_abc`);
    const { stack, runtime } = composed({ authorization: AgentAuthorization.cognito(pool) });
    const backend = new iam.Role(stack, 'Backend', { assumedBy: new iam.AccountPrincipal(ACCOUNT) });

    expect(() => runtime.grantInvokeOnBehalfOfUsers(backend)).toThrow(/grantInvokeOnBehalfOfUsers: the API authorizes Cognito users/);
  });

  test('throws if the grantee is neither a role nor a user', () => {
    const { runtime } = composed();

    expect(() => runtime.grantInvokeOnBehalfOfUsers({ grantPrincipal: new iam.AccountPrincipal(ACCOUNT) })).toThrow(
      /grantInvokeOnBehalfOfUsers: the grantee must be an IAM role or user/,
    );
  });
});

test('the stage logs access, not message bodies, and is throttled; gateway errors use the JSON error shape', () => {
  const { template } = composed();

  template.hasResourceProperties('AWS::ApiGateway::Stage', {
    AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
    MethodSettings: Match.arrayWith([
      Match.objectLike({
        ResourcePath: '/*',
        HttpMethod: '*',
        DataTraceEnabled: false,
        LoggingLevel: 'ERROR',
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      }),
    ]),
  });
  template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'BAD_REQUEST_BODY',
    ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"error":\\{"code":"invalid_request"') },
  });
});

test('the API answers on the public, jurisdiction and regional names with a DNS-validated certificate', () => {
  const { template } = composed();

  const names = Object.values(template.findResources('AWS::ApiGateway::DomainName')).map((domain) => domain.Properties.DomainName);
  expect(names.sort()).toEqual(['agent.example.com', 'eu-central-1.agent.example.com', 'eu.agent.example.com']);
  template.hasResourceProperties('AWS::ApiGateway::DomainName', { EndpointConfiguration: { Types: ['REGIONAL'] }, SecurityPolicy: 'TLS_1_2' });
  template.hasResourceProperties('AWS::CertificateManager::Certificate', {
    DomainName: RECORD,
    SubjectAlternativeNames: ['*.agent.example.com'],
    ValidationMethod: 'DNS',
    DomainValidationOptions: Match.arrayWith([Match.objectLike({ HostedZoneId: ZONE.hostedZoneId })]),
  });
  template.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
});

test('metric helpers name this region', () => {
  const { runtime, stack } = composed();

  const rate = runtime.metricFallbackRate();
  expect(rate.expression).toBe('IF(requests_eu_central_1 > 0, 100 * fallbacks_eu_central_1 / requests_eu_central_1, 0)');
  expect(stack.resolve(runtime.metricTimeToFirstToken({ statistic: 'p99' }).toMetricConfig().metricStat)).toMatchObject({
    metricName: 'TimeToFirstToken',
    statistic: 'p99',
    region: 'eu-central-1',
    dimensions: [{ name: 'Region', value: 'eu-central-1' }],
  });
});

test.each([
  ['a region outside the jurisdiction', () => composed({}, 'us-east-1'), /the stack's region us-east-1 is not a region of 'eu'/],
  [
    'a table of another jurisdiction',
    () => {
      const app = testApp();
      const stack = new Stack(app, 'S', { env: { account: ACCOUNT, region: 'eu-west-1' } });
      const us = Jurisdiction.us(['us-east-1']);
      new AgentRuntime(stack, 'Runtime', {
        jurisdiction: EU(),
        chain: chain(),
        table: ConversationTable.fromJurisdiction(stack, 'T', { jurisdiction: us, tableName: 't-us' }),
      });
    },
    /table: belongs to jurisdiction 'us'/,
  ],
  ['a record name without a zone', () => composed({ hostedZone: undefined }), /give both for a custom domain/],
  [
    'a health throttle that lets nothing through',
    () => composed({ healthThrottling: { rateLimit: 0, burstLimit: 20 } }),
    /healthThrottling: rateLimit must be a positive number/,
  ],
  [
    'a fractional burst limit',
    () => composed({ throttling: { rateLimit: 50, burstLimit: 1.5 } }),
    /throttling: rateLimit must be a positive number and burstLimit a positive integer/,
  ],
  [
    'an invalid runtime setting',
    () => composed({ settings: { deadlines: { firstTokenTimeoutMs: -5 } } }),
    /Invalid agent runtime configuration: deadlines.firstTokenTimeoutMs/,
  ],
  [
    'a retry budget ratio outside its bounds',
    () => composed({ settings: { retryBudget: { ratio: 5 } } }),
    /Invalid agent runtime configuration: retryBudget.ratio: .*<=3/,
  ],
  [
    "a region's retry-budget floor below zero",
    () => composed({ settings: { retryBudget: { regionMinPerSecond: -1 } } }),
    /Invalid agent runtime configuration: retryBudget.regionMinPerSecond: .*>=0/,
  ],
  [
    "a region's retry-budget floor beyond ten thousand a second",
    () => composed({ settings: { retryBudget: { regionMinPerSecond: 20_000 } } }),
    /Invalid agent runtime configuration: retryBudget.regionMinPerSecond: .*<=10000/,
  ],
  [
    'the removed per-window floor of the region, refused rather than ignored',
    () => composed({ settings: { retryBudget: { regionMinPerWindow: 12 } as never } }),
    /Invalid agent runtime configuration: retryBudget.*regionMinPerWindow/,
  ],
  [
    'a hedge cap above a tenth of the requests',
    () => composed({ settings: { hedge: { maxRatio: 0.5 } } }),
    /Invalid agent runtime configuration: hedge.maxRatio: .*<=0.1/,
  ],
  ['a hedge burst of none', () => composed({ settings: { hedge: { burst: 0 } } }), /Invalid agent runtime configuration: hedge.burst: .*>=1/],
  [
    'the hedge window, which the credit replaced',
    // @ts-expect-error windowMs is no longer a hedge setting: a configuration from before is refused, not silently changed
    () => composed({ settings: { hedge: { windowMs: 10_000 } } }),
    /Invalid agent runtime configuration: hedge: .*"windowMs"/,
  ],
  [
    'a retry budget window shorter than a second',
    () => composed({ settings: { retryBudget: { windowMs: 10 } } }),
    /Invalid agent runtime configuration: retryBudget.windowMs: .*>=1000/,
  ],
  [
    "a configuration over Lambda's environment limit",
    () => composed({ jurisdictionHosts: Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`j${index}`, `j${index}.agent.example.com`])) }),
    /of Lambda's 4 KB environment/,
  ],
  [
    'an environment-agnostic stack',
    () => {
      const stack = new Stack(testApp(), 'S');
      new AgentRuntime(stack, 'Runtime', {
        jurisdiction: EU(),
        chain: chain(),
        table: ConversationTable.fromJurisdiction(stack, 'T', { jurisdiction: EU(), tableName: 't' }),
      });
    },
    /needs a stack with an explicit env.region/,
  ],
])('throws for %s, naming the construct', (_case, build, message) => {
  expect(build).toThrow(message);
});

test("a global profile's grant names each source region's model and the region-less one, only through the profile", () => {
  const world = Jurisdiction.custom({ name: 'world', geography: 'global', regions: ['us-east-1', 'eu-west-1'] });
  const claude = BedrockModel.of('anthropic.claude-sonnet-4-5-20250929-v1:0', { inferenceGeographies: ['global'] });
  const { template } = composed({ jurisdiction: world, chain: ModelChain.of(claude) }, 'eu-west-1');

  const statement = bedrockStatements(template).find((candidate) =>
    [candidate.Resource]
      .flat()
      .map(flatten)
      .some((resource) => resource.includes(':foundation-model/')),
  )!;
  // The chain calls the profile from eu-west-1 (primary) and from us-east-1 (regional fallback).
  expect([statement.Resource].flat().map(flatten).sort()).toEqual([
    'arn:AWS::Partition:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:AWS::Partition:bedrock:eu-west-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:AWS::Partition:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
  ]);
  expect(flatten((statement.Condition as Record<string, Record<string, unknown>>).StringEquals['bedrock:InferenceProfileArn'])).toContain(
    'inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0',
  );
});

test("API Gateway's account-wide logging role is registered by default, and left to another stack when asked", () => {
  const managed = composed().template;
  const leftAlone = composed({ manageApiGatewayAccount: false }).template;

  managed.resourceCountIs('AWS::ApiGateway::Account', 1);
  leftAlone.resourceCountIs('AWS::ApiGateway::Account', 0);
  // Access logging stays on either way.
  leftAlone.hasResourceProperties('AWS::ApiGateway::Stage', { AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }) });
});
