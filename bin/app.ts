#!/usr/bin/env node
/**
 * The example deployment: one agent in four regions of two jurisdictions.
 *
 *   us: us-east-1 (home) and us-west-2
 *   eu: eu-west-1 (home) and eu-central-1, restricted, European users kept in the EU
 *
 * Claude Sonnet 4.5 answers; Amazon Nova Pro is the degraded fallback. The
 * account and DNS come from context (cdk.json or -c key=value) with
 * placeholder defaults, so `npx cdk synth` works offline on a fresh clone:
 *
 *   npx cdk deploy --all -c account=123456789012 -c hostedZoneId=Z123... -c zoneName=example.com -c recordName=agent.example.com
 */
import { App, Validations } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BedrockModel, Jurisdiction, ModelChain, MultiRegionAgent } from '../lib';

export const EXAMPLE_DEFAULTS = {
  account: '111111111111',
  hostedZoneId: 'Z00000000000000000000',
  zoneName: 'example.com',
  recordName: 'agent.example.com',
};

export function createExampleApp(options: { context?: Record<string, unknown>; jurisdictions?: Jurisdiction[] } = {}): { app: App; agent: MultiRegionAgent } {
  const app = new App({ context: options.context });
  const setting = (key: keyof typeof EXAMPLE_DEFAULTS) => String(app.node.tryGetContext(key) ?? EXAMPLE_DEFAULTS[key]);
  const agent = new MultiRegionAgent(app, 'support-agent', {
    account: setting('account'),
    hostedZone: { hostedZoneId: setting('hostedZoneId'), zoneName: setting('zoneName') },
    recordName: setting('recordName'),
    jurisdictions: options.jurisdictions ?? [
      Jurisdiction.us(['us-east-1', 'us-west-2']),
      Jurisdiction.eu(['eu-west-1', 'eu-central-1'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
    ],
    chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, BedrockModel.AMAZON_NOVA_PRO),
  });
  // The example is held to the AWS Solutions rules; findings fail synthesis.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, agent };
}

if (require.main === module) {
  createExampleApp().app.synth();
}
