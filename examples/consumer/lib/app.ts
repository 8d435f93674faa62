/**
 * The travel desk's deployment: one agent in two jurisdictions (the EU's
 * two regions keep their callers and data in the EU, the US one serves
 * everyone else), its code tool bundled with the agent and its Lambda tool
 * deployed in every region. The tests start this same app locally.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AgentCode, BedrockModel, Jurisdiction, ModelChain, MultiRegionAgent } from 'cdk-multi-region-agent';
import { flightTools } from '../tools/flight-tools';

export function createApp(props: { outdir?: string } = {}): App {
  const app = new App({ outdir: props.outdir });
  new MultiRegionAgent(app, 'travel-desk', {
    account: '123456789012',
    hostedZone: { hostedZoneId: 'Z0TRAVELDESK00000000', zoneName: 'travel.example.org' },
    recordName: 'desk.travel.example.org',
    jurisdictions: [
      Jurisdiction.eu(['eu-central-1', 'eu-west-1'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
      Jurisdiction.us(['us-east-1']),
    ],
    chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, BedrockModel.AMAZON_NOVA_PRO),
    agent: AgentCode.fromEntry(path.join(__dirname, '..', 'agent', 'agent.ts')),
    tools: flightTools,
  });
  return app;
}
