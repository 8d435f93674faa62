import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LogEncryption, type AgentRuntime, type AgentToolsContext } from '../../lib';
import { ACCOUNT, agentApp, runtimeIn, testApp } from './fixtures';

/** The defaults that AWS Control Tower's proactive controls check, construct by construct. */

const templateOf = (runtime: AgentRuntime) => Template.fromStack(Stack.of(runtime));
const logicalIdOf = (runtime: AgentRuntime, key: kms.IKey) => Stack.of(runtime).getLogicalId(key.node.defaultChild as kms.CfnKey);

describe('log groups (CT.CLOUDWATCH.PR.2 and PR.3)', () => {
  test("keep a year of records and are encrypted with one new KMS key of the runtime's, by default", () => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp());

    // THEN
    const template = templateOf(runtime);
    template.resourceCountIs('AWS::KMS::Key', 1);
    // The function's, the access logs' and the target probe's.
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  test("the log key lets only the region's CloudWatch Logs use it, for log groups of this account and region", () => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp());

    // THEN
    templateOf(runtime).hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'kms:CreateGrant' }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: { 'Fn::Join': ['', ['logs.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } },
            Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:logs:eu-west-1:${ACCOUNT}:log-group:*`]] },
              },
            },
          }),
        ]),
      }),
    });
  });

  test('LogEncryption.kms(key) encrypts both log groups with that key and makes none', () => {
    // GIVEN
    const app = testApp();
    const key = new kms.Key(new Stack(app, 'Agent', { env: { account: ACCOUNT, region: 'eu-west-1' } }), 'MyKey');

    // WHEN
    const runtime = runtimeIn(app, { logEncryption: LogEncryption.kms(key) });

    // THEN
    const template = templateOf(runtime);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.allResourcesProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [logicalIdOf(runtime, key), 'Arn'] } });
  });

  test("LogEncryption.serviceManaged() leaves the log groups to CloudWatch Logs' own encryption, with no key", () => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp(), { logEncryption: LogEncryption.serviceManaged(), logRetention: logs.RetentionDays.ONE_MONTH });

    // THEN
    const template = templateOf(runtime);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30, KmsKeyId: Match.absent() });
  });

  test("MultiRegionAgent encrypts each region's log groups, the tools' included, with that region's key", () => {
    // GIVEN
    const contexts: Record<string, AgentToolsContext> = {};

    // WHEN
    const { agent } = agentApp({
      tools: (scope, region, _jurisdiction, context) => {
        contexts[region] = context;
        new logs.LogGroup(scope, 'ToolLogs', { retention: context.logRetention, encryptionKey: context.logEncryptionKey });
        return [];
      },
    });

    // THEN
    for (const [region, stack] of Object.entries(agent.regionStacks)) {
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::KMS::Key', 1);
      const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
      template.resourceCountIs('AWS::Logs::LogGroup', 4);
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      expect(contexts[region].logRetention).toBe(logs.RetentionDays.ONE_YEAR);
      expect(Stack.of(contexts[region].logEncryptionKey!)).toBe(stack);
    }
  });

  test('MultiRegionAgent with runtime.logEncryption: LogEncryption.serviceManaged() gives tools no key', () => {
    // GIVEN
    const keys: Array<kms.IKey | undefined> = [];

    // WHEN
    agentApp({
      runtime: { logEncryption: LogEncryption.serviceManaged() },
      tools: (_scope, _region, _jurisdiction, context) => {
        keys.push(context.logEncryptionKey);
        return [];
      },
    });

    // THEN
    expect(keys).toEqual([undefined, undefined, undefined, undefined]);
  });

  test('throws if MultiRegionAgent is given one key for the log groups of every region', () => {
    // GIVEN
    const app = testApp();
    const key = kms.Key.fromKeyArn(new Stack(app, 'Keys'), 'Key', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`);

    // WHEN / THEN
    expect(() => agentApp({ runtime: { logEncryption: LogEncryption.kms(key) } })).toThrow(
      /runtime.logEncryption: a KMS key belongs to one region, and this agent has several/,
    );
  });
});

describe('the API (CT.APIGATEWAY.PR.2 and CT.LAMBDA.PR.2)', () => {
  test('the stage is traced with X-Ray by default', () => {
    const runtime = runtimeIn(testApp());

    templateOf(runtime).hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'prod', TracingEnabled: true });
  });

  test('tracing: false turns the stage tracing off', () => {
    const runtime = runtimeIn(testApp(), { tracing: false });

    templateOf(runtime).hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: false });
  });

  test("API Gateway's permission to invoke the function names the account as a plain SourceAccount beside the API's SourceArn", () => {
    const runtime = runtimeIn(testApp());

    const template = templateOf(runtime);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
      SourceAccount: ACCOUNT,
      SourceArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`:execute-api:eu-west-1:${ACCOUNT}:`])] }),
    });
  });
});
