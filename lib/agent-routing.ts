import { Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { AgentDomains } from './agent-runtime';
import { MultiRegionAgentError } from './errors';
import type { Jurisdiction } from './jurisdiction';
import { RoutingTag } from './routing-tags';

/** How the agent's public name reaches one region. */
export class PublicNameRouting {
  /** A latency record on the public name itself: users reach the nearest healthy region. */
  static latency(): PublicNameRouting {
    return new PublicNameRouting('latency', []);
  }

  /**
   * Latency records on `public-<jurisdiction>.<name>` and `public-all.<name>`,
   * to which GeolocationRouting sends the public name: Route 53 cannot mix
   * geolocation and latency records on one name, so they are layered.
   */
  static layered(): PublicNameRouting {
    return new PublicNameRouting('layered', []);
  }

  /** Geolocation records on the public name pointing straight at this region (geolocation-only strategy). */
  static geolocation(locations: route53.GeoLocation[]): PublicNameRouting {
    return new PublicNameRouting('geolocation', locations);
  }

  private constructor(
    readonly kind: 'latency' | 'layered' | 'geolocation',
    readonly locations: readonly route53.GeoLocation[],
  ) {}
}

/** The names under which the layered public routing keeps its latency sets. */
export const layeredRecordName = {
  jurisdiction: (jurisdiction: Jurisdiction, recordName: string) => `public-${jurisdiction.name}.${recordName}`,
  all: (recordName: string) => `public-all.${recordName}`,
};

export interface AgentRoutingProps {
  /** Tags every health check, so that operators' tools find them (agentctl). */
  readonly agentName: string;
  readonly hostedZone: route53.IHostedZone;
  /** The agent's public name, inside the hosted zone. */
  readonly recordName: string;
  readonly jurisdiction: Jurisdiction;
  /** This region's API domains (AgentRuntime.domains). */
  readonly domains: AgentDomains;
  /** @default PublicNameRouting.latency() */
  readonly publicName?: PublicNameRouting;
  /**
   * Also take the region out of DNS while this alarm (in this region) is in
   * ALARM: a calculated health check combines the HTTPS check and the alarm.
   * @default - the HTTPS health check alone
   */
  readonly alarm?: cloudwatch.IAlarm;
  /** @default 30 (seconds; 10 costs more) */
  readonly healthCheckIntervalSeconds?: 10 | 30;
  /** @default 3 */
  readonly healthCheckFailureThreshold?: number;
}

/**
 * Route 53 for one region, in that region's stack: a health check on
 * `https://<region>.<name>/health` (tagged for agentctl), the region's own
 * record, its latency record under `<jurisdiction>.<name>`, and its part of
 * the public name's routing. Adding a region adds its records; it changes no
 * other region's.
 */
export class AgentRouting extends Construct {
  /** The health check the region's records use. */
  readonly healthCheck: route53.IHealthCheck;
  /** The health check's id (the calculated one when an alarm is combined). */
  readonly healthCheckId: string;
  readonly region: string;

  constructor(scope: Construct, id: string, props: AgentRoutingProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) throw new MultiRegionAgentError('RegionRequired', 'AgentRouting needs a stack with an explicit env.region', this);
    if (!props.jurisdiction.includes(region)) {
      throw new MultiRegionAgentError('RegionOutsideJurisdiction', `jurisdiction: ${region} is not a region of '${props.jurisdiction.name}'`, this);
    }
    const zoneName = props.hostedZone.zoneName;
    if (!Token.isUnresolved(zoneName) && props.recordName !== zoneName && !props.recordName.endsWith(`.${zoneName}`)) {
      throw new MultiRegionAgentError('RecordOutsideZone', `recordName ${props.recordName} is not inside hosted zone ${zoneName}`, this);
    }
    const failureThreshold = props.healthCheckFailureThreshold ?? 3;
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1 || failureThreshold > 10) {
      throw new MultiRegionAgentError('InvalidFailureThreshold', `healthCheckFailureThreshold must be an integer from 1 to 10, got ${failureThreshold}`, this);
    }
    this.region = region;
    const tags = (kind: string) => [
      { key: RoutingTag.agent, value: props.agentName },
      { key: RoutingTag.region, value: region },
      { key: RoutingTag.jurisdiction, value: props.jurisdiction.name },
      { key: 'Name', value: `${props.agentName} ${region} ${kind}` },
    ];

    const https = new route53.CfnHealthCheck(this, 'HealthCheck', {
      healthCheckConfig: {
        type: 'HTTPS',
        fullyQualifiedDomainName: `${region}.${props.recordName}`,
        resourcePath: '/health',
        port: 443,
        requestInterval: props.healthCheckIntervalSeconds ?? 30,
        failureThreshold,
        enableSni: true,
      },
      healthCheckTags: tags('https'),
    });
    let used: route53.CfnHealthCheck = https;
    if (props.alarm) {
      const alarmCheck = new route53.CfnHealthCheck(this, 'AlarmHealthCheck', {
        healthCheckConfig: {
          type: 'CLOUDWATCH_METRIC',
          alarmIdentifier: { name: props.alarm.alarmName, region },
          // A region whose alarm has no data yet keeps its last status rather than flapping.
          insufficientDataHealthStatus: 'LastKnownStatus',
        },
        healthCheckTags: tags('fallback-alarm'),
      });
      used = new route53.CfnHealthCheck(this, 'CombinedHealthCheck', {
        healthCheckConfig: { type: 'CALCULATED', childHealthChecks: [https.attrHealthCheckId, alarmCheck.attrHealthCheckId], healthThreshold: 2 },
        healthCheckTags: tags('combined'),
      });
    }
    this.healthCheckId = used.attrHealthCheckId;
    this.healthCheck = route53.HealthCheck.fromHealthCheckId(this, 'UsedHealthCheck', this.healthCheckId);

    const zone = props.hostedZone;
    const alias = (domain: AgentDomains[keyof AgentDomains]) => route53.RecordTarget.fromAlias(new targets.ApiGatewayDomain(domain));
    new route53.ARecord(this, 'RegionalRecord', { zone, recordName: `${region}.${props.recordName}`, target: alias(props.domains.regionalDomain) });
    const latencyRecord = (recordId: string, recordName: string, domain: AgentDomains[keyof AgentDomains]) =>
      new route53.ARecord(this, recordId, { zone, recordName, target: alias(domain), region, setIdentifier: region, healthCheck: this.healthCheck });
    latencyRecord('JurisdictionRecord', props.jurisdiction.hostName(props.recordName), props.domains.jurisdictionDomain);

    const publicName = props.publicName ?? PublicNameRouting.latency();
    if (publicName.kind === 'latency') {
      latencyRecord('PublicRecord', props.recordName, props.domains.publicDomain);
    } else if (publicName.kind === 'layered') {
      latencyRecord('PublicJurisdictionRecord', layeredRecordName.jurisdiction(props.jurisdiction, props.recordName), props.domains.publicDomain);
      latencyRecord('PublicAllRecord', layeredRecordName.all(props.recordName), props.domains.publicDomain);
    } else {
      publicName.locations.forEach((location, index) => {
        new route53.ARecord(this, `PublicGeoRecord${index}`, {
          zone,
          recordName: props.recordName,
          target: alias(props.domains.publicDomain),
          geoLocation: location,
          setIdentifier: `${region}-${geoLabel(location)}`,
          healthCheck: this.healthCheck,
        });
      });
    }
  }
}

/** A readable, unique set identifier part for a geolocation. */
export function geoLabel(location: route53.GeoLocation): string {
  const parts = [location.continentCode, location.countryCode, location.subdivisionCode].filter((part) => part && part !== '*');
  return parts.join('-') || 'default';
}
