#!/usr/bin/env node
/**
 * The example deployment: one agent in four regions of two jurisdictions.
 *
 *   us: us-east-1 (home) and us-west-2, restricted, North American users kept in the US
 *   eu: eu-west-1 (home) and eu-central-1, restricted, European users kept in the EU
 *
 * Claude Sonnet 4.5 answers; Amazon Nova Pro is the degraded fallback; in
 * the US only, where a provider can keep the data in the US, OpenAI's GPT-4o
 * of a US data-residency project comes last (provider-fallback), as the
 * article recommends (the EU would refuse it at synthesis). The
 * agent is the support agent of examples/support-agent/: its code (agent.ts:
 * instructions and the refund_policy tool) and a Lambda tool, lookup_order,
 * deployed in every region's stack (tools.ts), with the delivery MCP server
 * (delivery_slots, and reschedule_delivery after the customer's approval):
 * a function behind an IAM function URL in each region's stack, which the
 * runtime calls signing with SigV4 (delivery-mcp.ts). The
 * account and DNS come from context (cdk.json or -c key=value) with
 * placeholder defaults, so `npx cdk synth` works offline on a fresh clone:
 *
 *   npx cdk deploy --all -c account=123456789012 -c hostedZoneId=Z123... -c zoneName=example.com -c recordName=agent.example.com
 */
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LOOKUP_ORDER, supportTools } from '../examples/support-agent/tools';
import { AgentCode, BedrockModel, Jurisdiction, ModelChain, MultiRegionAgent, OpenAiModel } from '../lib';

/**
 * The Control Tower proactive controls the example does not pass, by rule file name:
 * CT.LAMBDA.PR.3 wants every function in a VPC (see docs/performance.md, Security).
 */
export const CONTROL_TOWER_EXCEPTIONS = ['ct-lambda-pr-3'] as const;

export const EXAMPLE_DEFAULTS = {
  account: '111111111111',
  hostedZoneId: 'Z00000000000000000000',
  zoneName: 'example.com',
  recordName: 'agent.example.com',
};

/**
 * The example's agent, for running it without AWS (the local playground):
 * the entry file to bundle, and the handler module (export `handler`) of
 * each tool that is a Lambda function, by tool name.
 */
export const EXAMPLE_AGENT = {
  entry: path.join(__dirname, '..', 'examples', 'support-agent', 'agent.ts'),
  lambdaToolHandlers: { [LOOKUP_ORDER.name]: LOOKUP_ORDER.handlerModule } as Readonly<Record<string, string>>,
} as const;

/** The US chain: Bedrock first, then OpenAI's GPT-4o with US data residency (its key in a secret the runtime creates per region). */
export const EXAMPLE_US_CHAIN = () =>
  new ModelChain({
    primary: BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5,
    fallbacks: [BedrockModel.AMAZON_NOVA_PRO],
    providerFallbacks: [OpenAiModel.gpt4o({ residency: 'us' })],
  });

export function createExampleApp(options: { context?: Record<string, unknown>; jurisdictions?: Jurisdiction[]; outdir?: string } = {}): {
  app: App;
  agent: MultiRegionAgent;
} {
  const app = new App({ context: options.context, outdir: options.outdir });
  const setting = (key: keyof typeof EXAMPLE_DEFAULTS) => String(app.node.tryGetContext(key) ?? EXAMPLE_DEFAULTS[key]);
  const agent = new MultiRegionAgent(app, 'support-agent', {
    account: setting('account'),
    hostedZone: { hostedZoneId: setting('hostedZoneId'), zoneName: setting('zoneName') },
    recordName: setting('recordName'),
    jurisdictions: options.jurisdictions ?? [
      Jurisdiction.us(['us-east-1', 'us-west-2'], { geolocations: [route53.GeoLocation.continent(route53.Continent.NORTH_AMERICA)] }),
      Jurisdiction.eu(['eu-west-1', 'eu-central-1'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
    ],
    chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, BedrockModel.AMAZON_NOVA_PRO),
    chains: { us: EXAMPLE_US_CHAIN() },
    agent: AgentCode.fromEntry(EXAMPLE_AGENT.entry),
    tools: supportTools,
  });
  // The example is held to the AWS Solutions rules; findings fail synthesis.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // And, with -c controlTower=true, to AWS Control Tower's proactive controls (a few seconds more): see docs/security.md.
  if (['true', true].includes(app.node.tryGetContext('controlTower'))) {
    Validations.of(app).addPlugins(new CfnGuardValidator({ disabledRules: [...CONTROL_TOWER_EXCEPTIONS] }));
  }
  return { app, agent };
}

if (require.main === module) {
  createExampleApp().app.synth();
}
