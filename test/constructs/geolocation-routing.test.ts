import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { GeolocationRouting, type GeolocationRoutingProps } from '../../lib/routing/geolocation-routing';
import { Jurisdiction } from '../../lib/governance/jurisdiction';
import { RECORD, ZONE_ID, euJurisdiction, regionStack, usJurisdiction, zoneIn } from './routing-fixtures';

function geolocationTemplate(props: Partial<GeolocationRoutingProps> = {}): Template {
  const stack = regionStack('us-east-1');
  new GeolocationRouting(stack, 'Geolocation', {
    hostedZone: zoneIn(stack),
    recordName: RECORD,
    jurisdictions: [usJurisdiction(), euJurisdiction()],
    ...props,
  });
  return Template.fromStack(stack);
}

/** The public name's records, by set identifier. */
function publicRecords(template: Template): Record<string, Record<string, unknown>> {
  const resources = Object.values(template.findResources('AWS::Route53::RecordSet', { Properties: { Name: `${RECORD}.` } }));
  return Object.fromEntries(resources.map((resource) => [resource.Properties.SetIdentifier, resource.Properties]));
}

describe('GeolocationRouting', () => {
  test("a restricted jurisdiction's continents and countries go to its latency set, and stay there when its regions are unhealthy", () => {
    // GIVEN / WHEN
    const records = publicRecords(geolocationTemplate());

    // THEN
    const toEu = { DNSName: `eu.latency.${RECORD}`, HostedZoneId: ZONE_ID, EvaluateTargetHealth: false };
    expect(records['eu-continent-EU']).toEqual(
      expect.objectContaining({ Type: 'A', HostedZoneId: ZONE_ID, GeoLocation: { ContinentCode: 'EU' }, AliasTarget: toEu }),
    );
    expect(records['eu-CH']).toEqual(expect.objectContaining({ GeoLocation: { CountryCode: 'CH' }, AliasTarget: toEu }));
  });

  test('everyone else goes to the latency set of all regions, through the default record', () => {
    // GIVEN / WHEN
    const records = publicRecords(geolocationTemplate());

    // THEN
    expect(Object.keys(records).sort()).toEqual(['default', 'eu-CH', 'eu-continent-EU']);
    expect(records.default).toEqual(
      expect.objectContaining({
        GeoLocation: { CountryCode: '*' },
        AliasTarget: { DNSName: `latency.${RECORD}`, HostedZoneId: ZONE_ID, EvaluateTargetHealth: false },
      }),
    );
  });

  test("an unrestricted jurisdiction's users fall through to the nearest region of all when its regions are unhealthy", () => {
    // GIVEN
    const apac = Jurisdiction.custom({
      name: 'apac',
      regions: ['ap-southeast-2'],
      geography: 'apac',
      restricted: false,
      geolocations: [route53.GeoLocation.country('AU')],
    });

    // WHEN
    const records = publicRecords(geolocationTemplate({ jurisdictions: [usJurisdiction(), apac] }));

    // THEN
    expect(records['apac-AU'].AliasTarget).toEqual({ DNSName: `apac.latency.${RECORD}`, HostedZoneId: ZONE_ID, EvaluateTargetHealth: true });
  });

  test('without any geolocation the public name carries only the default record', () => {
    // GIVEN / WHEN
    const records = publicRecords(geolocationTemplate({ jurisdictions: [usJurisdiction(), Jurisdiction.eu(['eu-west-1'])] }));

    // THEN
    expect(Object.keys(records)).toEqual(['default']);
  });

  test('adding regions to the jurisdictions changes none of its records', () => {
    // GIVEN
    const before = geolocationTemplate();

    // WHEN
    const after = geolocationTemplate({
      jurisdictions: [
        Jurisdiction.us(['us-east-1', 'us-west-2', 'us-east-2']),
        Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-north-1'], { geolocations: euJurisdiction().geolocations.slice() }),
      ],
    });

    // THEN
    expect(after.toJSON()).toEqual(before.toJSON());
  });

  test('throws if two jurisdictions claim the same location', () => {
    const us = Jurisdiction.us(['us-east-1'], { geolocations: [route53.GeoLocation.country('CH')] });
    expect(() => geolocationTemplate({ jurisdictions: [us, euJurisdiction()] })).toThrow(
      /Geolocation: jurisdictions: geolocation CH is claimed by both 'us' and 'eu'/,
    );
  });

  test('throws if a jurisdiction lists the default location', () => {
    const eu = Jurisdiction.eu(['eu-west-1'], { geolocations: [route53.GeoLocation.default()] });
    expect(() => geolocationTemplate({ jurisdictions: [eu] })).toThrow(/'eu' lists the default location/);
  });

  test('throws if a region belongs to two jurisdictions', () => {
    const other = Jurisdiction.custom({ name: 'eu2', regions: ['eu-west-1'], geography: 'eu' });
    expect(() => geolocationTemplate({ jurisdictions: [euJurisdiction(), other] })).toThrow(/region eu-west-1 belongs to both 'eu' and 'eu2'/);
  });

  test('throws if the record name is outside the hosted zone', () => {
    expect(() => geolocationTemplate({ recordName: 'agent.example.net' })).toThrow(/recordName agent.example.net is not inside hosted zone example.com/);
  });
});
