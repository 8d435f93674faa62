import { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { AgentDomains } from '../../lib';
import { Jurisdiction } from '../../lib/governance/jurisdiction';

export const ACCOUNT = '123456789012';
export const ZONE_ID = 'Z0123456789ABCDEFGHIJ';
export const RECORD = 'agent.example.com';

export const usJurisdiction = () => Jurisdiction.us(['us-east-1', 'us-west-2']);
export const euJurisdiction = () =>
  Jurisdiction.eu(['eu-west-1', 'eu-central-1'], {
    geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE), route53.GeoLocation.country('CH')],
  });

export function regionStack(region: string, app = new App()): Stack {
  return new Stack(app, `agent-${region}`, { env: { account: ACCOUNT, region } });
}

export function zoneIn(stack: Stack, zoneName = 'example.com'): route53.IHostedZone {
  return route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: ZONE_ID, zoneName });
}

/** The API Gateway target of a custom domain in a region, as AgentRuntime's domains would resolve. */
export function targetOf(kind: keyof AgentDomains, region: string): string {
  return `d-${kind.replace('Domain', '').toLowerCase()}.execute-api.${region}.amazonaws.com`;
}

/** Imported stand-ins for AgentRuntime.domains, with recognizable alias targets. */
export function domainsIn(stack: Stack): AgentDomains {
  const domain = (kind: keyof AgentDomains, domainName: string) =>
    apigateway.DomainName.fromDomainNameAttributes(stack, kind, {
      domainName,
      domainNameAliasTarget: targetOf(kind, stack.region),
      domainNameAliasHostedZoneId: 'ZAPIGATEWAYREGION',
    });
  return {
    publicDomain: domain('publicDomain', RECORD),
    jurisdictionDomain: domain('jurisdictionDomain', `j.${RECORD}`),
    regionalDomain: domain('regionalDomain', `${stack.region}.${RECORD}`),
  };
}

/** A widget of the dashboard body, as CloudWatch reads it. */
export interface DashboardWidget {
  type: string;
  properties: {
    title?: string;
    region?: string;
    markdown?: string;
    metrics?: unknown[][];
    annotations?: { horizontal?: Array<{ value: number; label?: string }>; alarms?: string[] };
  };
}

/** The dashboard body as JSON: CDK renders it as an Fn::Join of strings and tokens, resolved here. */
export function dashboardBody(dashboard: cloudwatch.Dashboard): { widgets: DashboardWidget[] } {
  const stack = Stack.of(dashboard);
  const body = stack.resolve((dashboard.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody);
  return JSON.parse(joinResolved(body, stack));
}

function joinResolved(value: unknown, stack: Stack): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map((part) => joinResolved(part, stack)).join(join[0]);
  const pseudo: Record<string, string> = {
    'AWS::Region': stack.region,
    'AWS::AccountId': stack.account,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const ref = (value as { Ref?: string }).Ref;
  if (ref && pseudo[ref]) return pseudo[ref];
  throw new Error(`unexpected token in dashboard body: ${JSON.stringify(value)} (stack ${stack.stackName})`);
}
