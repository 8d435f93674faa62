import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { geoLabel, layeredRecordName } from './agent-routing';
import { MultiRegionAgentError } from './errors';
import type { Jurisdiction } from './jurisdiction';

export interface GeolocationRoutingProps {
  readonly hostedZone: route53.IHostedZone;
  /** The agent's public name. */
  readonly recordName: string;
  /** Every jurisdiction of the agent; those with geolocations get records. */
  readonly jurisdictions: readonly Jurisdiction[];
}

/**
 * The public name's geolocation layer: users located in a jurisdiction's
 * geolocations are sent to that jurisdiction's regions (the latency set
 * `public-<jurisdiction>.<name>` that each region's AgentRouting feeds), and
 * everyone else to the nearest region of all (`public-all.<name>`).
 *
 * A restricted jurisdiction's users stay in it even when all its regions are
 * unhealthy (its records do not evaluate target health): Route 53 then
 * fails open within the jurisdiction instead of sending them abroad.
 * Deploy it after the region stacks: alias targets must exist.
 */
export class GeolocationRouting extends Construct {
  constructor(scope: Construct, id: string, props: GeolocationRoutingProps) {
    super(scope, id);
    const zone = props.hostedZone;
    const toName = (dnsName: string, evaluateTargetHealth: boolean) =>
      route53.RecordTarget.fromAlias({ bind: () => ({ dnsName, hostedZoneId: zone.hostedZoneId, evaluateTargetHealth }) });
    const seen = new Map<string, string>();
    for (const jurisdiction of props.jurisdictions) {
      for (const location of jurisdiction.geolocations) {
        const label = geoLabel(location);
        const owner = seen.get(label);
        if (owner) throw new MultiRegionAgentError('DuplicateGeolocation', `jurisdictions: geolocation ${label} is claimed by both '${owner}' and '${jurisdiction.name}'`, this);
        if (label === 'default') throw new MultiRegionAgentError('DefaultGeolocation', `jurisdictions: '${jurisdiction.name}' lists the default location; the default goes to the nearest region of all`, this);
        seen.set(label, jurisdiction.name);
        new route53.ARecord(this, `${jurisdiction.name}-${label}`, {
          zone,
          recordName: props.recordName,
          target: toName(layeredRecordName.jurisdiction(jurisdiction, props.recordName), !jurisdiction.restricted),
          geoLocation: location,
          setIdentifier: `${jurisdiction.name}-${label}`,
        });
      }
    }
    new route53.ARecord(this, 'Default', {
      zone,
      recordName: props.recordName,
      target: toName(layeredRecordName.all(props.recordName), true),
      geoLocation: route53.GeoLocation.default(),
      setIdentifier: 'default',
    });
  }
}
