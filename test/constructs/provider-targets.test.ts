import { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  AnthropicModel,
  BedrockModel,
  Jurisdiction,
  ModelChain,
  MultiRegionAgentError,
  OpenAiModel,
  ProviderApiKey,
  ResidencyReport,
  type AgentRuntime,
  type ChainTarget,
} from '../../lib';
import { ACCOUNT, agentApp, environmentOf, flatten, runtimeIn, testApp } from './fixtures';

const bedrockChain = (...providerFallbacks: Array<OpenAiModel | AnthropicModel>) =>
  new ModelChain({ primary: BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, fallbacks: [BedrockModel.AMAZON_NOVA_PRO], providerFallbacks });

/** A us-east-1 stack `Agent`, which runtimeIn then uses. */
const usApp = () => {
  const app = testApp();
  return { app, stack: new Stack(app, 'Agent', { env: { account: ACCOUNT, region: 'us-east-1' } }) };
};

const usRuntime = (chain: ModelChain) => runtimeIn(usApp().app, { jurisdiction: Jurisdiction.us(['us-east-1', 'us-west-2']), chain });

/** The runtime's chain as the function receives it, tokens resolved. */
const chainOf = (runtime: AgentRuntime): ChainTarget[] => Stack.of(runtime).resolve(runtime.runtimeConfig.chain);

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const statementsOf = (runtime: AgentRuntime): Statement[] =>
  Object.values(Template.fromStack(Stack.of(runtime)).findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );

/** The statements of the policies attached to one function's role. */
function statementsOfRole(runtime: AgentRuntime, fn: lambda.IFunction): Statement[] {
  const roleId = Stack.of(runtime).getLogicalId(fn.role!.node.defaultChild as CfnElement);
  return Object.values(Template.fromStack(Stack.of(runtime)).findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

describe('outside providers as chain targets', () => {
  test('an EU runtime tries an OpenAI EU-residency project after every Bedrock target, as provider-fallback', () => {
    // GIVEN
    const app = testApp();
    // WHEN
    const runtime = runtimeIn(app, { chain: bedrockChain(OpenAiModel.gpt4o({ residency: 'eu' })) });
    // THEN
    const chain = chainOf(runtime);
    expect(chain.map((target) => target.tier)).toEqual(['primary', 'regional-fallback', 'model-fallback', 'model-fallback', 'provider-fallback']);
    expect(chain.at(-1)).toEqual({
      modelId: 'gpt-4o',
      region: 'eu-west-1',
      tier: 'provider-fallback',
      provider: { name: 'openai', residency: 'eu', secret: { Ref: expect.stringMatching(/^RuntimeProviderKeysopenaieu/) } },
    });
    expect(runtime.runtimeConfig.prices?.['gpt-4o']).toEqual({ inputPer1kTokens: 0.0025, outputPer1kTokens: 0.01 });
  });

  test('throws if a restricted jurisdiction gets a target that processes globally, naming the target and the jurisdiction', () => {
    const build = () => runtimeIn(testApp(), { chain: bedrockChain(OpenAiModel.gpt4o()) });
    expect(build).toThrow(MultiRegionAgentError);
    expect(build).toThrow(/provider target openai gpt-4o \(global\) processes data anywhere in the world, outside restricted jurisdiction 'eu'/);
  });

  test("throws if an EU jurisdiction gets Anthropic's US inference", () => {
    const app = testApp();
    expect(() => runtimeIn(app, { chain: bedrockChain(AnthropicModel.claudeSonnet45({ inferenceGeo: 'us' })) })).toThrow(
      /anthropic claude-sonnet-4-5 \(us\) processes data in us, outside restricted jurisdiction 'eu'/,
    );
  });

  test('throws if a strictly restricted jurisdiction (processingRegions) gets any provider target', () => {
    const app = testApp();
    const jurisdiction = Jurisdiction.eu(['eu-west-1', 'eu-central-1'], {
      processingRegions: ['eu-west-1', 'eu-central-1', 'eu-west-3', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-2', 'eu-central-2'],
    });
    expect(() => runtimeIn(app, { jurisdiction, chain: bedrockChain(OpenAiModel.gpt4o({ residency: 'eu' })) })).toThrow(
      /AWS regions the provider cannot be held to/,
    );
  });

  test('an unrestricted jurisdiction accepts a global target', () => {
    const jurisdiction = Jurisdiction.custom({ name: 'world', regions: ['eu-west-1'], geography: 'global' });
    const world = runtimeIn(testApp(), {
      jurisdiction,
      chain: new ModelChain({ primary: BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, providerFallbacks: [OpenAiModel.gpt4o()] }),
    });
    expect(chainOf(world).at(-1)?.provider).toMatchObject({ name: 'openai', residency: 'global' });
  });

  test.each([
    ['OpenAiModel', () => OpenAiModel.of('GPT 4o'), /OpenAiModel: modelId must be an OpenAI model name/],
    ['OpenAiModel', () => OpenAiModel.of('openai/gpt-4o'), /OpenAiModel: modelId must be an OpenAI model name/],
    ['AnthropicModel', () => AnthropicModel.of('anthropic.claude-sonnet-4-5-20250929-v1:0'), /AnthropicModel: modelId must be an Anthropic API model name/],
    ['OpenAiModel', () => OpenAiModel.of('gpt-4o', { residency: 'apac' as never }), /OpenAiModel: residency must be one of us, eu, global, got 'apac'/],
    [
      'AnthropicModel',
      () => AnthropicModel.of('claude-sonnet-4-5', { inferenceGeo: 'eu' as never }),
      /AnthropicModel: inferenceGeo must be one of us, global, got 'eu'/,
    ],
    ['ProviderApiKey', () => ProviderApiKey.fromSecretName('my key'), /ProviderApiKey.fromSecretName: secretName must be/],
  ])('throws if %s gets bad input', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('throws if the same provider target appears twice', () => {
    expect(() => bedrockChain(OpenAiModel.gpt4o({ residency: 'us' }), OpenAiModel.gpt4o({ residency: 'us' }))).toThrow(
      /provider target openai gpt-4o \(us\) appears twice/,
    );
  });
});

describe('provider API keys', () => {
  test('the runtime creates one empty secret per provider and residency, and says how to fill it', () => {
    // GIVEN two models of one provider and residency, and another provider
    const runtime = usRuntime(
      bedrockChain(
        OpenAiModel.gpt4o({ residency: 'us' }),
        OpenAiModel.of('gpt-4.1-mini', { residency: 'us' }),
        AnthropicModel.claudeSonnet45({ inferenceGeo: 'us' }),
      ),
    );
    const template = Template.fromStack(Stack.of(runtime));
    // THEN
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.allResourcesProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.absent(), SecretString: Match.absent() });
    const outputs = Object.values(template.findOutputs('*'));
    expect(outputs.filter((output) => /aws secretsmanager put-secret-value --region us-east-1/.test(output.Description))).toHaveLength(2);
    const chain = chainOf(runtime);
    expect(chain[chain.length - 3].provider?.secret).toEqual(chain[chain.length - 2].provider?.secret);
    expect(chain.at(-1)?.provider?.secret).not.toEqual(chain[chain.length - 2].provider?.secret);
  });

  test('the runtime and its probe may read exactly its key secrets, and no key is in their environment', () => {
    const runtime = usRuntime(bedrockChain(OpenAiModel.gpt4o({ residency: 'us' }), AnthropicModel.claudeSonnet45({ inferenceGeo: 'us' })));
    const secretIds = Object.keys(Template.fromStack(Stack.of(runtime)).findResources('AWS::SecretsManager::Secret'));
    expect(secretIds).toHaveLength(2);
    for (const fn of [runtime.function, runtime.probe!.function]) {
      const statements = statementsOfRole(runtime, fn).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')));
      expect(statements).toHaveLength(1);
      expect(statements[0].Action).toEqual('secretsmanager:GetSecretValue');
      expect([statements[0].Resource].flat()).toEqual(secretIds.map((id) => ({ Ref: id })));
    }
    const environment = JSON.stringify(environmentOf(runtime));
    expect(environment).not.toMatch(/sk-|apiKey/i);
  });

  test('a secret given by name is granted by its ARN with the six-character suffix, in the runtime region', () => {
    const runtime = usRuntime(bedrockChain(OpenAiModel.gpt4o({ residency: 'us', apiKey: ProviderApiKey.fromSecretName('agent/openai-us') })));
    Template.fromStack(Stack.of(runtime)).resourceCountIs('AWS::SecretsManager::Secret', 0);
    const statement = statementsOf(runtime).find((candidate) => candidate.Sid === 'ReadProviderKeys')!;
    expect(flatten(statement.Resource)).toMatch(/^arn:.*:secretsmanager:us-east-1:123456789012:secret:agent\/openai-us-\?\?\?\?\?\?$/);
    expect(chainOf(runtime).at(-1)?.provider?.secret).toBe('agent/openai-us');
  });

  test("a given secret with a customer-managed key: kms:Decrypt on that key, through Secrets Manager of the runtime's region only", () => {
    const { app, stack } = usApp();
    const key = new kms.Key(stack, 'KeyKey');
    const secret = new secretsmanager.Secret(stack, 'OpenAiKey', { encryptionKey: key });
    const runtime = runtimeIn(app, {
      jurisdiction: Jurisdiction.us(['us-east-1', 'us-west-2']),
      chain: bedrockChain(OpenAiModel.gpt4o({ residency: 'us', apiKey: ProviderApiKey.fromSecret(secret) })),
    });
    const statements = statementsOf(runtime);
    expect(statements.find((statement) => statement.Sid === 'ReadProviderKeys')?.Resource).toEqual({
      Ref: stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret),
    });
    expect(statements.find((statement) => statement.Sid === 'DecryptProviderKeys')).toMatchObject({
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
    });
  });

  test('throws if a given secret is in another region than the runtime', () => {
    const { app } = usApp();
    const other = new Stack(app, 'Secrets', { env: { account: ACCOUNT, region: 'us-west-2' } });
    const secret = new secretsmanager.Secret(other, 'OpenAiKey');
    expect(() =>
      runtimeIn(app, {
        jurisdiction: Jurisdiction.us(['us-east-1', 'us-west-2']),
        chain: bedrockChain(OpenAiModel.gpt4o({ residency: 'us', apiKey: ProviderApiKey.fromSecret(secret) })),
      }),
    ).toThrow(/apiKey: the secret Secrets\/OpenAiKey is in us-west-2, but the runtime in us-east-1 reads its key in its own region/);
  });
});

describe('a multi-region agent with providers for one jurisdiction', () => {
  const withProviders = () =>
    agentApp({ chains: { us: bedrockChain(OpenAiModel.gpt4o({ residency: 'us' }), AnthropicModel.claudeSonnet45({ inferenceGeo: 'us' })) } });

  test('only the us runtimes get provider targets and secrets', () => {
    const { agent } = withProviders();
    const runtimeOf = (region: string) => agent.runtimes.find((runtime) => runtime.region === region)!;
    expect(runtimeOf('us-east-1').providerTargets.map((target) => target.model.displayName)).toEqual([
      'openai gpt-4o (us)',
      'anthropic claude-sonnet-4-5 (us)',
    ]);
    expect(runtimeOf('eu-west-1').providerTargets).toEqual([]);
    Template.fromStack(agent.regionStacks['eu-west-1']).resourceCountIs('AWS::SecretsManager::Secret', 0);
    Template.fromStack(agent.regionStacks['us-west-2']).resourceCountIs('AWS::SecretsManager::Secret', 2);
  });

  test('the residency report lists the providers where they may process data', () => {
    const { agent } = withProviders();
    const report = (agent.node.findAll().find((node) => node instanceof ResidencyReport) as ResidencyReport).document();
    const us = report.jurisdictions.find((part) => part.name === 'us')!;
    expect(us.processing.providers).toEqual([
      { name: 'openai', model: 'gpt-4o', residency: 'us', processing: expect.stringContaining('us.api.openai.com'), calledFrom: ['us-east-1', 'us-west-2'] },
      {
        name: 'anthropic',
        model: 'claude-sonnet-4-5',
        residency: 'us',
        processing: expect.stringContaining('inference_geo us'),
        calledFrom: ['us-east-1', 'us-west-2'],
      },
    ]);
    expect(report.jurisdictions.find((part) => part.name === 'eu')!.processing.providers).toEqual([]);
  });

  test.each([
    ['a refused or unreadable key', 'KeyRejected', 'provider-keys', 'providerKeyAlarms'],
    ['a provider refusing a request Bedrock takes', 'TargetRejected', 'target-rejected', 'targetRejectedAlarms'],
  ] as const)("%s (%s) alarms the region's people, in the regions with outside providers only", (_what, reason, suffix, alarms) => {
    const { agent } = withProviders();
    expect(agent[alarms]).toHaveLength(2);
    Template.fromStack(agent.regionStacks['eu-west-1']).resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { AlarmName: Match.stringLikeRegexp(`${suffix}$`) },
      0,
    );
    const us = Template.fromStack(agent.regionStacks['us-east-1']);
    const topics = Object.keys(us.findResources('AWS::SNS::Topic')).filter((id) => /Notifications/.test(id));
    us.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `agent-us-east-1-fallback-rate-${suffix}`,
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'TargetErrors',
              Dimensions: Match.arrayWith([
                { Name: 'Reason', Value: reason },
                { Name: 'Region', Value: 'us-east-1' },
              ]),
            }),
            Stat: 'Sum',
            Period: 300,
          }),
        }),
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topics[0] }],
      OKActions: [{ Ref: topics[0] }],
    });
  });

  test('throws if chains names an unknown jurisdiction', () => {
    expect(() => agentApp({ chains: { apac: bedrockChain() } })).toThrow(/chains: unknown jurisdiction apac/);
  });

  test('passes cdk-nag AwsSolutions with the created secrets', () => {
    const { app } = withProviders();
    const findings = new AwsSolutionsChecks(app).validateScope(app).violations.filter((violation) => /SMG|SecretsManager/.test(violation.ruleName));
    expect(findings).toEqual([]);
  });
});
