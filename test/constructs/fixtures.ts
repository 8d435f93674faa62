import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { BedrockModel, Jurisdiction, ModelChain, MultiRegionAgent, type MultiRegionAgentProps } from '../../lib';

export const ACCOUNT = '123456789012';
export const ZONE = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' };
export const RECORD = 'agent.example.com';

/** Construct tests do not need the runtime bundle: skip esbuild. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

export const us = () => Jurisdiction.us(['us-east-1', 'us-west-2']);
export const eu = (options: Parameters<typeof Jurisdiction.eu>[1] = {}) => Jurisdiction.eu(['eu-west-1', 'eu-central-1'], options);
export const chain = () => ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, BedrockModel.AMAZON_NOVA_PRO);

export function agentApp(overrides: Partial<MultiRegionAgentProps> = {}): { app: App; agent: MultiRegionAgent } {
  const app = testApp();
  const agent = new MultiRegionAgent(app, 'agent', {
    account: ACCOUNT,
    hostedZone: ZONE,
    recordName: RECORD,
    jurisdictions: [us(), eu({ geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] })],
    chain: chain(),
    ...overrides,
  });
  return { app, agent };
}

export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}

/** Every string in a resolved CloudFormation value, joined: handy to assert what an ARN names. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join('');
  if (value && typeof value === 'object') return Object.values(value).map(flatten).join('');
  return String(value ?? '');
}
