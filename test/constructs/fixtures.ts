import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as path from 'node:path';
import {
  AgentRuntime,
  BedrockModel,
  ConversationTable,
  Jurisdiction,
  ModelChain,
  MultiRegionAgent,
  type AgentRuntimeProps,
  type MultiRegionAgentProps,
} from '../../lib';

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

/** The agent entries of test/constructs/agents/. */
export const agentEntry = (name: string) => path.join(__dirname, 'agents', name);

/**
 * A runtime of the EU jurisdiction in a stack `Agent` (eu-west-1, created
 * on first use) beside its table: several runtimes of one test share both.
 */
export function runtimeIn(app: App, props: Partial<AgentRuntimeProps> = {}, id = 'Runtime'): AgentRuntime {
  const stack = (app.node.tryFindChild('Agent') as Stack | undefined) ?? new Stack(app, 'Agent', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const jurisdiction = props.jurisdiction ?? Jurisdiction.eu(['eu-west-1', 'eu-central-1']);
  const table = (stack.node.tryFindChild('Conversations') as ConversationTable | undefined) ?? new ConversationTable(stack, 'Conversations', { jurisdiction });
  return new AgentRuntime(stack, id, { jurisdiction, chain: chain(), table, ...props });
}

/** The environment variables of the stack's agent function. */
export function environmentOf(runtime: AgentRuntime): Record<string, string> {
  const functions = Template.fromStack(Stack.of(runtime)).findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('^Multi-region agent runtime') },
  });
  const logicalId = Stack.of(runtime).getLogicalId(runtime.function.node.defaultChild as CfnElement);
  return functions[logicalId].Properties.Environment.Variables;
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
