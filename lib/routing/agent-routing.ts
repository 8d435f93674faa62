import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { AgentDomains } from './agent-domain-names';
import { MultiRegionAgentError } from '../errors';
import { RESERVED_LATENCY_LABEL, type Jurisdiction } from '../governance/jurisdiction';
import { RoutingTag } from './routing-tags';

/**
 * The names of the latency record sets behind the public name when it is
 * geolocation-routed (`PublicNameRouting.layered()` and `GeolocationRouting`).
 * Route 53 cannot hold latency and geolocation records on one name, so the
 * public name's geolocation records alias these sets. Their records alias the
 * public name's own API Gateway domain, so a client's TLS name (the public
 * name) always reaches a custom domain that owns it.
 */
export const layeredRecordName = {
  /** `<jurisdiction>.latency.<name>`: the jurisdiction's regions, by latency. */
  jurisdiction: (jurisdiction: Jurisdiction, recordName: string): string => `${jurisdiction.name}.${RESERVED_LATENCY_LABEL}.${recordName}`,
  /** `latency.<name>`: every region, by latency. */
  all: (recordName: string): string => `${RESERVED_LATENCY_LABEL}.${recordName}`,
};

/** How the agent's public name reaches one region. */
export class PublicNameRouting {
  /**
   * A latency record on the public name itself (set identifier = region):
   * users reach the nearest healthy region. No other routing can share the
   * name, so use it only when no jurisdiction keeps its users by geolocation.
   */
  static latency(): PublicNameRouting {
    return new PublicNameRouting('latency', []);
  }

  /**
   * Latency records on `<jurisdiction>.latency.<name>` and `latency.<name>`,
   * which a `GeolocationRouting` on the public name sends users to: a
   * jurisdiction's users to its regions, everyone else to the nearest region.
   * Adding a jurisdiction with geolocations later then only adds records.
   */
  static layered(): PublicNameRouting {
    return new PublicNameRouting('layered', []);
  }

  /**
   * Geolocation records on the public name pointing straight at this region,
   * one per location (the geolocation-only strategy). Include
   * `GeoLocation.default()` in exactly one region of the agent, or users
   * elsewhere get no answer. An empty list keeps the region off the public
   * name (it still serves `<jurisdiction>.<name>`).
   */
  static geolocation(locations: readonly route53.GeoLocation[]): PublicNameRouting {
    const labels = locations.map(geoLabel);
    const twice = labels.find((label, index) => labels.indexOf(label) !== index);
    if (twice) throw new MultiRegionAgentError('DuplicateGeolocation', `PublicNameRouting.geolocation: location ${twice} is listed twice`);
    return new PublicNameRouting('geolocation', [...locations]);
  }

  /**
   * The geolocation-only strategy for a whole agent, split per region: each
   * location goes to one region, and users of every other location to
   * `defaultRegion`. Returns the `PublicNameRouting` of every region in
   * `regions` (empty for a region that serves no location), so that each
   * region's stack holds only its own records and adding a region adds only
   * its records.
   */
  static geolocationByRegion(props: GeolocationByRegionProps): Readonly<Record<string, PublicNameRouting>> {
    const where = 'geolocation routing';
    if (!props.defaultRegion) {
      throw new MultiRegionAgentError('NoDefaultRegion', `${where}: defaultRegion is required: users outside the mapped locations would get no answer`);
    }
    if (!props.regions.includes(props.defaultRegion)) {
      throw new MultiRegionAgentError(
        'UnknownDefaultRegion',
        `${where}: defaultRegion ${props.defaultRegion} is not a region of the agent (${props.regions.join(', ')})`,
      );
    }
    const byRegion = new Map<string, route53.GeoLocation[]>(props.regions.map((region) => [region, []]));
    const owners = new Map<string, string>();
    for (const { location, region } of props.locations) {
      const label = geoLabel(location);
      if (label === 'default') throw new MultiRegionAgentError('DefaultGeolocation', `${where}: map the default location with defaultRegion, not in locations`);
      const locations = byRegion.get(region);
      if (!locations)
        throw new MultiRegionAgentError(
          'UnknownRoutingRegion',
          `${where}: location ${label} goes to ${region}, which is not a region of the agent (${props.regions.join(', ')})`,
        );
      const owner = owners.get(label);
      if (owner) throw new MultiRegionAgentError('DuplicateGeolocation', `${where}: location ${label} goes to both ${owner} and ${region}`);
      owners.set(label, region);
      locations.push(location);
    }
    byRegion.get(props.defaultRegion)!.push(route53.GeoLocation.default());
    return Object.fromEntries([...byRegion].map(([region, locations]) => [region, PublicNameRouting.geolocation(locations)]));
  }

  private constructor(
    /** Which records the region puts on (or behind) the public name. */
    readonly kind: 'latency' | 'layered' | 'geolocation',
    /** The geolocations of `geolocation()`; empty otherwise. */
    readonly locations: readonly route53.GeoLocation[],
  ) {}
}

/** A whole agent's geolocation-only routing. */
export interface GeolocationByRegionProps {
  /** Continents, countries or subdivisions, each mapped to the region that serves its users. */
  readonly locations: ReadonlyArray<{ readonly location: route53.GeoLocation; readonly region: string }>;
  /** The region that serves users of every other location. */
  readonly defaultRegion: string;
  /** Every region of the agent. */
  readonly regions: readonly string[];
}

/** Properties of an {@link AgentRouting}: the region, its API domains, the names to route and how to check its health. */
export interface AgentRoutingProps {
  /** The agent's name: tags every health check, so that operators' tools (agentctl) find them. */
  readonly agentName: string;
  /** The public hosted zone that holds `recordName`. */
  readonly hostedZone: route53.IHostedZone;
  /** The agent's public name, inside the hosted zone, e.g. `agent.example.com`. */
  readonly recordName: string;
  /** The jurisdiction of this region; the stack's region must be one of its regions. */
  readonly jurisdiction: Jurisdiction;
  /** This region's API custom domains (`AgentRuntime.domains`), all in this stack's region. */
  readonly domains: AgentDomains;
  /**
   * How the public name reaches this region.
   * @default PublicNameRouting.latency()
   */
  readonly publicName?: PublicNameRouting;
  /**
   * Also take the region out of DNS while this alarm of the region is in
   * ALARM, through a calculated health check that needs both the HTTPS check
   * and the alarm to be healthy. Route 53 can only watch alarms on one plain
   * metric: `FallbackRateAlarm.alarm` is one.
   *
   * Note: a drained region gets no traffic, so its alarm returns to OK after
   * its evaluation periods and the region is tried again, like a breaker.
   * @default - the HTTPS health check alone
   */
  readonly alarm?: cloudwatch.IAlarm;
  /**
   * With `alarm`: an alarm of the region in ALARM while it has enough
   * requests for `alarm` to mean something (`FallbackRateAlarm.requestVolumeAlarm`).
   * The region then leaves DNS only while both fire, so a quiet region with
   * a few fallbacks stays. Route 53 can watch neither composite nor
   * metric-math alarms, and a calculated health check counts its children
   * without weights and cannot have calculated children: the region's
   * `/health` is then checked twice (the second check also requires the
   * answer to name the region), and the calculated check needs 3 of: both
   * endpoint checks, the rate alarm OK, the volume alarm OK.
   * @default - `alarm` alone decides
   */
  readonly requestVolumeAlarm?: cloudwatch.IAlarm;
  /**
   * Seconds between two checks by one Route 53 checker: 10 (fast, billed as an
   * optional feature) or 30. A dead region loses its traffic after about
   * interval × failure threshold + the record's TTL: 10 × 3 + 60 = 90 s by
   * default, 30 × 3 + 60 = 150 s at 30.
   * @default 10
   */
  readonly healthCheckIntervalSeconds?: 10 | 30;
  /**
   * Consecutive failed checks (or successes) before Route 53 changes the
   * region's status; from 1 to 10.
   * @default 3
   */
  readonly healthCheckFailureThreshold?: number;
}

/**
 * The fast interval: a dead region is out of DNS a minute sooner (30 s of checks instead of 90), for Route 53's
 * fast-interval fee on each endpoint check.
 */
export const DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS = 10;
/** Consecutive failed health checks before Route 53 takes a region out, unless `healthCheckFailureThreshold` says otherwise. */
export const DEFAULT_HEALTH_CHECK_FAILURE_THRESHOLD = 3;

/**
 * Route 53 for one region, created in that region's stack:
 * - a health check of `https://<region>.<name>/health`, tagged with the
 *   agent, region and jurisdiction for agentctl (optionally combined with the
 *   region's fallback-rate alarm in a calculated health check);
 * - `<region>.<name>`, this region only (what the health check and operators call);
 * - a latency record on `<jurisdiction>.<name>` (set identifier = region);
 * - the region's part of the public name (see `PublicNameRouting`).
 * All records alias API Gateway domains of this region's stack and carry the
 * health check, so adding a region adds its records and changes no other.
 */
export class AgentRouting extends Construct {
  /** The health check the region's records carry (the calculated one when an alarm is combined). */
  readonly healthCheck: route53.IHealthCheck;
  /** The HTTPS health check of `https://<region>.<name>/health`. */
  readonly endpointHealthCheck: route53.CfnHealthCheck;
  /** Seconds between two checks by one Route 53 checker. */
  readonly healthCheckIntervalSeconds: 10 | 30;
  /** Consecutive failed checks before Route 53 takes the region out. */
  readonly healthCheckFailureThreshold: number;
  /** The region routed to. */
  readonly region: string;
  /** `<region>.<name>`: this region only. */
  readonly regionalHostName: string;

  constructor(scope: Construct, id: string, props: AgentRoutingProps) {
    super(scope, id);
    const publicName = props.publicName ?? PublicNameRouting.latency();
    this.region = this.validate(props);
    this.healthCheckIntervalSeconds = props.healthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS;
    this.healthCheckFailureThreshold = props.healthCheckFailureThreshold ?? DEFAULT_HEALTH_CHECK_FAILURE_THRESHOLD;
    const region = this.region;
    const zone = props.hostedZone;
    this.regionalHostName = `${region}.${props.recordName}`;

    const tags = (role: string) => [
      { key: RoutingTag.agent, value: props.agentName },
      { key: RoutingTag.region, value: region },
      { key: RoutingTag.jurisdiction, value: props.jurisdiction.name },
      { key: 'Name', value: `${props.agentName} ${region} ${role}` },
    ];
    const endpoint = {
      fullyQualifiedDomainName: this.regionalHostName,
      resourcePath: '/health',
      port: 443,
      enableSni: true,
      requestInterval: this.healthCheckIntervalSeconds,
      failureThreshold: this.healthCheckFailureThreshold,
    };
    this.endpointHealthCheck = new route53.CfnHealthCheck(this, 'HealthCheck', {
      healthCheckConfig: { type: 'HTTPS', ...endpoint },
      healthCheckTags: tags('https /health'),
    });
    let routingCheck = this.endpointHealthCheck;
    if (props.alarm) {
      const alarmCheck = (checkId: string, alarm: cloudwatch.IAlarm, role: string) =>
        new route53.CfnHealthCheck(this, checkId, {
          healthCheckConfig: {
            type: 'CLOUDWATCH_METRIC',
            alarmIdentifier: { name: alarm.alarmName, region },
            // No data means no evidence of trouble (a new or idle region stays in DNS), and no requests is a quiet region.
            insufficientDataHealthStatus: 'Healthy',
          },
          healthCheckTags: tags(role),
        });
      const children = [this.endpointHealthCheck, alarmCheck('AlarmHealthCheck', props.alarm, 'fallback-rate alarm')];
      if (props.requestVolumeAlarm) {
        // The front door counts twice: healthy = both endpoint checks and (rate OK or quiet), i.e. 3 of 4.
        children.push(
          new route53.CfnHealthCheck(this, 'RegionHealthCheck', {
            healthCheckConfig: { type: 'HTTPS_STR_MATCH', ...endpoint, searchString: `"region":"${region}"` },
            healthCheckTags: tags('https /health names the region'),
          }),
          alarmCheck('RequestVolumeHealthCheck', props.requestVolumeAlarm, 'request-volume alarm'),
        );
      }
      routingCheck = new route53.CfnHealthCheck(this, 'CombinedHealthCheck', {
        healthCheckConfig: {
          type: 'CALCULATED',
          childHealthChecks: children.map((child) => child.attrHealthCheckId),
          healthThreshold: props.requestVolumeAlarm ? 3 : 2,
        },
        healthCheckTags: tags(props.requestVolumeAlarm ? 'https and alarm with request volume' : 'https and alarm'),
      });
    }
    this.healthCheck = route53.HealthCheck.fromHealthCheckId(this, 'RoutingHealthCheck', routingCheck.attrHealthCheckId);

    const aliasOf = (domain: AgentDomains[keyof AgentDomains]) => route53.RecordTarget.fromAlias(new targets.ApiGatewayDomain(domain));
    const latencyRecord = (recordId: string, recordName: string, domain: AgentDomains[keyof AgentDomains]) =>
      new route53.ARecord(this, recordId, { zone, recordName, target: aliasOf(domain), region, setIdentifier: region, healthCheck: this.healthCheck });

    // The health check's own target carries no health check: it must answer even when unhealthy.
    new route53.ARecord(this, 'RegionalRecord', { zone, recordName: this.regionalHostName, target: aliasOf(props.domains.regionalDomain) });
    latencyRecord('JurisdictionRecord', props.jurisdiction.hostName(props.recordName), props.domains.jurisdictionDomain);
    switch (publicName.kind) {
      case 'latency':
        latencyRecord('PublicRecord', props.recordName, props.domains.publicDomain);
        break;
      case 'layered':
        latencyRecord('PublicJurisdictionLatencyRecord', layeredRecordName.jurisdiction(props.jurisdiction, props.recordName), props.domains.publicDomain);
        latencyRecord('PublicLatencyRecord', layeredRecordName.all(props.recordName), props.domains.publicDomain);
        break;
      case 'geolocation':
        for (const location of publicName.locations) {
          const label = geoLabel(location);
          new route53.ARecord(this, `PublicGeoRecord-${label}`, {
            zone,
            recordName: props.recordName,
            target: aliasOf(props.domains.publicDomain),
            geoLocation: location,
            setIdentifier: `${region}-${label}`,
            healthCheck: this.healthCheck,
          });
        }
        break;
    }
  }

  /** Returns the stack's region once the props are known to be consistent. */
  private validate(props: AgentRoutingProps): string {
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) {
      throw new MultiRegionAgentError(
        'RegionRequired',
        'AgentRouting needs a stack with an explicit env.region: its records and health check belong to that region',
        this,
      );
    }
    if (!props.jurisdiction.includes(region)) {
      throw new MultiRegionAgentError(
        'RegionOutsideJurisdiction',
        `jurisdiction: the stack's region ${region} is not a region of '${props.jurisdiction.name}' (${props.jurisdiction.regions.join(', ')})`,
        this,
      );
    }
    assertRecordInZone(this, props.recordName, props.hostedZone);
    if (!props.agentName || props.agentName.length > 256) {
      throw new MultiRegionAgentError('InvalidAgentName', `agentName must be 1 to 256 characters (a health-check tag value), got '${props.agentName}'`, this);
    }
    const failureThreshold = props.healthCheckFailureThreshold ?? DEFAULT_HEALTH_CHECK_FAILURE_THRESHOLD;
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1 || failureThreshold > 10) {
      throw new MultiRegionAgentError('InvalidFailureThreshold', `healthCheckFailureThreshold must be an integer from 1 to 10, got ${failureThreshold}`, this);
    }
    const interval = props.healthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS;
    if (interval !== 10 && interval !== 30) {
      throw new MultiRegionAgentError('InvalidHealthCheckInterval', `healthCheckIntervalSeconds must be 10 or 30, got ${interval}`, this);
    }
    if (props.alarm) assertRoute53CanWatch(this, 'alarm', props.alarm, region);
    if (props.requestVolumeAlarm) {
      if (!props.alarm) {
        throw new MultiRegionAgentError('VolumeAlarmWithoutAlarm', 'requestVolumeAlarm: only gates `alarm`; give the fallback-rate alarm as `alarm` too', this);
      }
      assertRoute53CanWatch(this, 'requestVolumeAlarm', props.requestVolumeAlarm, region);
    }
    return region;
  }
}

/** Throws unless `recordName` is the zone's apex or a name inside it (checked when both are known). */
export function assertRecordInZone(scope: Construct, recordName: string, zone: Pick<route53.IHostedZone, 'zoneName'>): void {
  const zoneName = zone.zoneName;
  if (Token.isUnresolved(zoneName) || Token.isUnresolved(recordName)) return;
  const name = recordName.replace(/\.$/, '').toLowerCase();
  const apex = zoneName.replace(/\.$/, '').toLowerCase();
  if (name !== apex && !name.endsWith(`.${apex}`)) {
    throw new MultiRegionAgentError('RecordOutsideZone', `recordName ${recordName} is not inside hosted zone ${zoneName}`, scope);
  }
}

/** Route 53 can watch an alarm of the region on one plain metric only; refuse what it would reject at deployment. */
function assertRoute53CanWatch(scope: Construct, prop: string, alarm: cloudwatch.IAlarm, region: string): void {
  const alarmRegion = Token.isUnresolved(alarm.alarmArn) ? Stack.of(alarm).region : Arn.split(alarm.alarmArn, ArnFormat.COLON_RESOURCE_NAME).region;
  if (!Token.isUnresolved(alarmRegion) && alarmRegion !== region) {
    throw new MultiRegionAgentError(
      'AlarmInOtherRegion',
      `${prop}: ${alarm.alarmName} is in ${alarmRegion}; the health check of ${region} must watch an alarm of ${region}`,
      scope,
    );
  }
  if (alarm instanceof cloudwatch.CompositeAlarm) {
    throw new MultiRegionAgentError(
      'CompositeAlarmNotWatchable',
      `${prop}: Route 53 health checks cannot watch composite alarms (only alarms on one plain metric); give FallbackRateAlarm.alarm and .requestVolumeAlarm, which the health check combines itself`,
      scope,
    );
  }
  const cfnAlarm = alarm instanceof cloudwatch.Alarm ? (alarm.node.defaultChild as cloudwatch.CfnAlarm) : undefined;
  if (cfnAlarm?.metrics !== undefined) {
    throw new MultiRegionAgentError(
      'AlarmNotSingleMetric',
      `${prop}: Route 53 health checks can only watch alarms on one plain metric, and this alarm uses metric math or a labelled metric; use FallbackRateAlarm.alarm or .requestVolumeAlarm`,
      scope,
    );
  }
}

/**
 * A readable label for a geolocation, unique among geolocations:
 * `continent-EU`, `DE`, `US-CA`, `default` (continent and country codes
 * overlap: AS is Asia and American Samoa).
 */
export function geoLabel(location: route53.GeoLocation): string {
  if (location.continentCode) return `continent-${location.continentCode}`;
  if (!location.countryCode || location.countryCode === '*') return 'default';
  return location.subdivisionCode ? `${location.countryCode}-${location.subdivisionCode}` : location.countryCode;
}
