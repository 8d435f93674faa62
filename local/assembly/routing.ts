/**
 * The deployment's Route 53 records, read from the templates, and what the
 * front door routes by: the names that reach each region and each
 * jurisdiction (latency records and per-region names), and the locations
 * whose callers a geolocation record keeps in one jurisdiction.
 */
import { UnresolvableTokenError, resolveCfn } from '../cloudwatch/cfn';
import type { AssemblyStack } from './assembly-stacks';

export interface RoutingRecord {
  readonly stackName: string;
  /** The region of the record's stack. */
  readonly stackRegion: string;
  /** Without the trailing dot. */
  readonly name: string;
  readonly type: string;
  readonly setIdentifier?: string;
  /** A latency record's region. */
  readonly latencyRegion?: string;
  /** A geolocation record's location: `continent:EU`, `country:DE`, `country:US/CA`, or `default` (`*`). */
  readonly location?: string;
  /** The alias target's DNS name, when it is known before deployment (another record's name, say). */
  readonly aliasTarget?: string;
}

export interface GeolocationRoute {
  readonly name: string;
  readonly location: string;
  /** The regions the record's callers reach. */
  readonly regions: readonly string[];
  /** The one jurisdiction those regions are in; undefined when they span several (the default record, say). */
  readonly jurisdiction?: string;
}

export interface LocalRouting {
  readonly records: readonly RoutingRecord[];
  /** Record names that reach exactly this region (`<region>.<name>`) or it among others (latency records), by region. */
  readonly regionNames: Readonly<Record<string, readonly string[]>>;
  /** Record names that reach several regions, all in one jurisdiction (`<jurisdiction>.<name>`), by jurisdiction. */
  readonly jurisdictionNames: Readonly<Record<string, readonly string[]>>;
  readonly geolocations: readonly GeolocationRoute[];
}

/** `jurisdictionOf` answers the jurisdiction of a region that runs an agent runtime. */
export function readRouting(stacks: readonly AssemblyStack[], jurisdictionOf: (region: string) => string | undefined): LocalRouting {
  const records = stacks.flatMap((stack) =>
    Object.values(stack.template.Resources ?? {})
      .filter((resource) => resource.Type === 'AWS::Route53::RecordSet')
      .map((resource) => recordOf(stack, resource.Properties ?? {})),
  );
  const regionsOf = (record: RoutingRecord): string[] => {
    if (record.latencyRegion) return [record.latencyRegion];
    const targets = record.aliasTarget ? records.filter((other) => other !== record && other.name === record.aliasTarget) : [];
    // An alias to an API's domain (known only once deployed) is the region of the record's stack.
    return targets.length > 0 ? [...new Set(targets.flatMap((target) => target.latencyRegion ?? target.stackRegion))] : [record.stackRegion];
  };
  const jurisdictionsOf = (regions: readonly string[]) => [...new Set(regions.map((region) => jurisdictionOf(region)))];
  const geolocations: GeolocationRoute[] = records
    .filter((record) => record.location)
    .map((record) => {
      const regions = regionsOf(record);
      const jurisdictions = jurisdictionsOf(regions);
      return { name: record.name, location: record.location!, regions, jurisdiction: jurisdictions.length === 1 ? jurisdictions[0] : undefined };
    });
  // A name's records together reach the union of their regions (one latency record per region).
  const regionsByName = new Map<string, Set<string>>();
  for (const record of records.filter((record) => !record.location)) {
    const regions = regionsByName.get(record.name) ?? new Set<string>();
    for (const region of regionsOf(record)) regions.add(region);
    regionsByName.set(record.name, regions);
  }
  const regionNames: Record<string, string[]> = {};
  const jurisdictionNames: Record<string, string[]> = {};
  for (const [name, regions] of regionsByName) {
    for (const region of regions) addName(regionNames, region, name);
    const jurisdictions = jurisdictionsOf([...regions]);
    if (jurisdictions.length === 1 && jurisdictions[0] && regions.size > 1) addName(jurisdictionNames, jurisdictions[0], name);
  }
  return { records, regionNames, jurisdictionNames, geolocations };
}

/** Jurisdictions whose located callers a geolocation record (other than the default) keeps in them. */
export function jurisdictionsKeepingLocatedUsers(routing: LocalRouting): string[] {
  return [...new Set(routing.geolocations.filter((route) => route.location !== 'default' && route.jurisdiction).map((route) => route.jurisdiction!))].sort();
}

function addName(names: Record<string, string[]>, key: string, name: string): void {
  const list = (names[key] ??= []);
  if (!list.includes(name)) list.push(name);
}

function recordOf(stack: AssemblyStack, properties: Record<string, unknown>): RoutingRecord {
  const geo = properties.GeoLocation as { ContinentCode?: string; CountryCode?: string; SubdivisionCode?: string } | undefined;
  return {
    stackName: stack.stackName,
    stackRegion: stack.region,
    name: withoutDot(String(known(stack, properties.Name) ?? '')),
    type: String(properties.Type),
    setIdentifier: properties.SetIdentifier === undefined ? undefined : String(known(stack, properties.SetIdentifier)),
    latencyRegion: properties.Region === undefined ? undefined : String(known(stack, properties.Region)),
    location: geo ? locationOf(geo) : undefined,
    aliasTarget: withoutDot(known(stack, (properties.AliasTarget as { DNSName?: unknown } | undefined)?.DNSName)),
  };
}

function locationOf(geo: { ContinentCode?: string; CountryCode?: string; SubdivisionCode?: string }): string {
  if (geo.ContinentCode) return `continent:${geo.ContinentCode}`;
  if (geo.CountryCode === '*') return 'default';
  return `country:${geo.CountryCode}${geo.SubdivisionCode ? `/${geo.SubdivisionCode}` : ''}`;
}

/** The value when it is known before deployment (routing only needs names; an API domain's target is not one). */
function known(stack: AssemblyStack, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    return String(resolveCfn(value, stack.env));
  } catch (error) {
    if (error instanceof UnresolvableTokenError) return undefined;
    throw error;
  }
}

function withoutDot<T extends string | undefined>(name: T): T {
  return (name?.replace(/\.$/, '') ?? name) as T;
}
