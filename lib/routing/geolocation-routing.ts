import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { assertRecordInZone, geoLabel, layeredRecordName } from './agent-routing';
import { MultiRegionAgentError, withConstructPath } from '../errors';
import { validateJurisdictions, type Jurisdiction } from '../governance/jurisdiction';

/** Properties of a {@link GeolocationRouting}: the zone, the public name and the jurisdictions whose users it keeps home. */
export interface GeolocationRoutingProps {
  /** The public hosted zone that holds `recordName`. */
  readonly hostedZone: route53.IHostedZone;
  /** The agent's public name, inside the hosted zone. */
  readonly recordName: string;
  /**
   * Every jurisdiction of the agent. Those with `geolocations` get records
   * that keep their users in them; users elsewhere go to the nearest region.
   */
  readonly jurisdictions: readonly Jurisdiction[];
}

/**
 * The public name's geolocation layer, over the latency record sets that
 * each region's `AgentRouting` (with `PublicNameRouting.layered()`) adds:
 * - users located in a jurisdiction's `geolocations` go to
 *   `<jurisdiction>.latency.<name>`, the nearest healthy region of that jurisdiction;
 * - everyone else goes to `latency.<name>`, the nearest healthy region of all.
 *
 * Route 53 cannot mix latency and geolocation records on one name, hence the
 * two layers. A restricted jurisdiction's records do not evaluate the health
 * of their target: when all its regions are unhealthy, its users stay on its
 * latency set (which then answers with all of them) instead of being sent
 * abroad. Other jurisdictions' users fall through to the nearest region of all.
 *
 * The records depend only on the jurisdictions' names and geolocations, not
 * on their regions: adding a region changes none of them. Put this construct
 * in a stack that exists from the start and deploys after the region stacks
 * (alias targets must exist), e.g. the monitoring stack.
 */
export class GeolocationRouting extends Construct {
  /** The records on the public name, by set identifier. */
  readonly records: Readonly<Record<string, route53.ARecord>>;

  constructor(scope: Construct, id: string, props: GeolocationRoutingProps) {
    super(scope, id);
    withConstructPath(this, () => validateJurisdictions(props.jurisdictions));
    assertRecordInZone(this, props.recordName, props.hostedZone);
    const zone = props.hostedZone;
    const aliasOf = (recordName: string, evaluateTargetHealth: boolean) =>
      route53.RecordTarget.fromAlias({ bind: () => ({ dnsName: recordName, hostedZoneId: zone.hostedZoneId, evaluateTargetHealth }) });
    const records: Record<string, route53.ARecord> = {};
    const owners = new Map<string, string>();

    for (const jurisdiction of props.jurisdictions) {
      for (const location of jurisdiction.geolocations) {
        const label = geoLabel(location);
        if (label === 'default') {
          throw new MultiRegionAgentError(
            'DefaultGeolocation',
            `jurisdictions: '${jurisdiction.name}' lists the default location; users outside every jurisdiction's geolocations go to the nearest region of all`,
            this,
          );
        }
        const owner = owners.get(label);
        if (owner)
          throw new MultiRegionAgentError(
            'DuplicateGeolocation',
            `jurisdictions: geolocation ${label} is claimed by both '${owner}' and '${jurisdiction.name}'`,
            this,
          );
        owners.set(label, jurisdiction.name);
        const setIdentifier = `${jurisdiction.name}-${label}`;
        records[setIdentifier] = new route53.ARecord(this, setIdentifier, {
          zone,
          recordName: props.recordName,
          target: aliasOf(layeredRecordName.jurisdiction(jurisdiction, props.recordName), !jurisdiction.restricted),
          geoLocation: location,
          setIdentifier,
        });
      }
    }
    // The latency set behind it already answers with every region when all are unhealthy.
    records.default = new route53.ARecord(this, 'Default', {
      zone,
      recordName: props.recordName,
      target: aliasOf(layeredRecordName.all(props.recordName), false),
      geoLocation: route53.GeoLocation.default(),
      setIdentifier: 'default',
    });
    this.records = records;
  }
}
