import type * as route53 from 'aws-cdk-lib/aws-route53';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { INFERENCE_GEOGRAPHIES, REGION_PATTERN, type InferenceGeography, type JurisdictionConfig } from '../../lambda/agent/config';
import { MultiRegionAgentError } from '../errors';

/** The label of the latency records under the public name; no jurisdiction may take it. */
export const RESERVED_LATENCY_LABEL = 'latency';

/** Region name prefixes that belong to each inference geography (a region outside them crosses the border). */
const GEOGRAPHY_REGION_PREFIXES: Record<InferenceGeography, string[]> = {
  us: ['us-east-', 'us-west-'],
  'us-gov': ['us-gov-'],
  eu: ['eu-'],
  // AWS's APAC profiles also route to the UAE.
  apac: ['ap-', 'me-central-1'],
  jp: ['ap-northeast-1', 'ap-northeast-3'],
  au: ['ap-southeast-2', 'ap-southeast-4'],
  ca: ['ca-'],
  global: [''],
};

/** Whether a region belongs to an inference geography. */
export function isInGeography(region: string, geography: InferenceGeography): boolean {
  return GEOGRAPHY_REGION_PREFIXES[geography].some((prefix) => region.startsWith(prefix));
}

/** A jurisdiction's name, regions and inference geography, and whether its data must stay in its regions. */
export interface JurisdictionProps {
  /** Short name, also the DNS label of the jurisdiction's host (`eu.agent.example.com`). */
  readonly name: string;
  /**
   * Regions where this jurisdiction's data is stored and its runtimes run.
   * The first is the home region unless `homeRegion` says otherwise.
   */
  readonly regions: string[];
  /**
   * The home region: it holds the authoritative copy of the conversation table.
   * @default - the first of `regions`
   */
  readonly homeRegion?: string;
  /** Bedrock inference-profile geography used for this jurisdiction's models. */
  readonly geography: InferenceGeography;
  /**
   * A restricted jurisdiction never lets a request's data leave its geography:
   * `global.` inference profiles and regions outside the geography are refused.
   * @default - true, unless the geography is `global`
   */
  readonly restricted?: boolean;
  /**
   * Where this jurisdiction's users are, for geolocation routing: users located
   * there are sent to `<name>.<record name>`.
   * @default - no geolocation records for this jurisdiction
   */
  readonly geolocations?: route53.GeoLocation[];
  /**
   * Strict residency: the only regions where this jurisdiction's prompts and
   * answers may be processed, when its geography is too wide (the `eu.`
   * profiles of some models route to eu-west-2 London and eu-central-2
   * Zurich, outside the EU). A chain whose inference profiles may route a
   * request elsewhere is refused at synthesis.
   *
   * Note: every region of `regions` must be listed (the runtime processes
   * there), and every region listed must be a known AWS region of the
   * jurisdiction's geography, deployed or not (e.g. eu-north-1, where a
   * profile may route to). Only for a restricted jurisdiction.
   * @default - any region of the geography
   */
  readonly processingRegions?: string[];
}

/** Regions that aws-cdk-lib's region-info knows. */
const KNOWN_REGIONS: ReadonlySet<string> = new Set(RegionInfo.regions.map((region) => region.name));

/** Whether `region` is an AWS region that aws-cdk-lib knows of. */
export function isKnownRegion(region: string): boolean {
  return KNOWN_REGIONS.has(region);
}

/**
 * A named set of regions where a class of data may be stored and processed.
 * Every deployed region belongs to exactly one jurisdiction.
 */
export class Jurisdiction {
  /** The EU: `eu.` inference profiles, restricted, European users routed to it. */
  static eu(regions: string[], options: Partial<Omit<JurisdictionProps, 'regions' | 'geography'>> = {}): Jurisdiction {
    return new Jurisdiction({ name: 'eu', geography: 'eu', ...options, regions });
  }

  /** The US: `us.` inference profiles, restricted. */
  static us(regions: string[], options: Partial<Omit<JurisdictionProps, 'regions' | 'geography'>> = {}): Jurisdiction {
    return new Jurisdiction({ name: 'us', geography: 'us', ...options, regions });
  }

  /** Asia Pacific: `apac.` inference profiles, restricted. */
  static apac(regions: string[], options: Partial<Omit<JurisdictionProps, 'regions' | 'geography'>> = {}): Jurisdiction {
    return new Jurisdiction({ name: 'apac', geography: 'apac', ...options, regions });
  }

  /** A jurisdiction of your own naming (see {@link JurisdictionProps}). */
  static custom(props: JurisdictionProps): Jurisdiction {
    return new Jurisdiction(props);
  }

  /** Its short name, also the DNS label of its host (`eu.agent.example.com`). */
  readonly name: string;
  /** Where its data may be stored and processed, in the order given. */
  readonly regions: readonly string[];
  /** The first region: its conversation table's home. */
  readonly homeRegion: string;
  /** The inference profile geography of its models (`eu` for `eu.anthropic...`). */
  readonly geography: InferenceGeography;
  /** True when a request's data never leaves its geography (`global.` profiles and regions outside it are refused). */
  readonly restricted: boolean;
  /** Where its users are, for geolocation routing: users located there are kept in this jurisdiction. */
  readonly geolocations: readonly route53.GeoLocation[];
  /** Where prompts and answers may be processed, when restricted beyond the geography (`processingRegions`). */
  readonly processingRegions?: readonly string[];

  private constructor(props: JurisdictionProps) {
    const where = `Jurisdiction '${props.name}'`;
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(props.name)) {
      throw new MultiRegionAgentError('InvalidJurisdictionName', `${where}: name must be a lowercase DNS label such as 'eu', got '${props.name}'`);
    }
    // The name becomes a host label next to `<region>.<name>` and the routing's `latency.<name>`.
    if (REGION_PATTERN.test(props.name)) {
      throw new MultiRegionAgentError('JurisdictionNamedLikeRegion', `${where}: name is a region name, so its host would collide with that region's host`);
    }
    if (props.name === RESERVED_LATENCY_LABEL) {
      throw new MultiRegionAgentError(
        'ReservedJurisdictionName',
        `${where}: name '${RESERVED_LATENCY_LABEL}' is reserved for the public name's latency records (latency.<name>)`,
      );
    }
    if (!(INFERENCE_GEOGRAPHIES as readonly string[]).includes(props.geography)) {
      throw new MultiRegionAgentError('InvalidGeography', `${where}: geography must be one of ${INFERENCE_GEOGRAPHIES.join(', ')}, got '${props.geography}'`);
    }
    if (props.regions.length === 0) throw new MultiRegionAgentError('NoRegions', `${where}: regions must list at least one region`);
    const seen = new Set<string>();
    for (const region of props.regions) {
      if (!REGION_PATTERN.test(region))
        throw new MultiRegionAgentError('InvalidRegion', `${where}: regions contains '${region}', which is not an AWS region name such as eu-west-1`);
      if (seen.has(region)) throw new MultiRegionAgentError('DuplicateRegion', `${where}: regions lists ${region} twice`);
      seen.add(region);
    }
    const homeRegion = props.homeRegion ?? props.regions[0];
    if (!seen.has(homeRegion)) {
      throw new MultiRegionAgentError('HomeRegionNotInRegions', `${where}: homeRegion ${homeRegion} is not among regions (${props.regions.join(', ')})`);
    }
    const restricted = props.restricted ?? props.geography !== 'global';
    if (restricted && props.geography === 'global') {
      throw new MultiRegionAgentError(
        'RestrictedGlobal',
        `${where}: a restricted jurisdiction cannot use the global geography, whose profiles route worldwide`,
      );
    }
    const outside = props.regions.filter((region) => !isInGeography(region, props.geography));
    if (restricted && outside.length > 0) {
      throw new MultiRegionAgentError(
        'RegionOutsideGeography',
        `${where}: regions ${outside.join(', ')} lie outside the ${props.geography} geography, so data would cross the jurisdiction's border`,
      );
    }
    if (props.processingRegions) this.validateProcessingRegions(where, props, restricted);
    this.name = props.name;
    // Home region first: stacks, replicas and chains all rely on this order.
    this.regions = [homeRegion, ...props.regions.filter((region) => region !== homeRegion)];
    this.homeRegion = homeRegion;
    this.geography = props.geography;
    this.restricted = restricted;
    this.geolocations = props.geolocations ?? [];
    this.processingRegions = props.processingRegions ? [...props.processingRegions] : undefined;
  }

  /** Known regions of the geography, each once, the deployed regions among them, in a restricted jurisdiction. */
  private validateProcessingRegions(where: string, props: JurisdictionProps, restricted: boolean): void {
    const listed = props.processingRegions!;
    if (!restricted) {
      throw new MultiRegionAgentError(
        'ProcessingRegionsUnrestricted',
        `${where}: processingRegions limits where data is processed, which an unrestricted jurisdiction does not promise; remove restricted: false or processingRegions`,
      );
    }
    const unknown = listed.filter((region) => !isKnownRegion(region));
    if (unknown.length > 0) {
      throw new MultiRegionAgentError(
        'UnknownProcessingRegion',
        `${where}: processingRegions lists ${unknown.map((region) => `'${region}'`).join(', ')}, which ${unknown.length > 1 ? 'are not AWS regions' : 'is not an AWS region'} that aws-cdk-lib knows (a new region needs a newer aws-cdk-lib)`,
      );
    }
    const twice = listed.find((region, index) => listed.indexOf(region) !== index);
    if (twice) throw new MultiRegionAgentError('DuplicateProcessingRegion', `${where}: processingRegions lists ${twice} twice`);
    const abroad = listed.filter((region) => !isInGeography(region, props.geography));
    if (abroad.length > 0) {
      throw new MultiRegionAgentError(
        'ProcessingRegionOutsideGeography',
        `${where}: processingRegions lists ${abroad.join(', ')}, outside the ${props.geography} geography; strict residency can only narrow the geography`,
      );
    }
    const missing = props.regions.filter((region) => !listed.includes(region));
    if (missing.length > 0) {
      throw new MultiRegionAgentError(
        'RegionNotInProcessingRegions',
        `${where}: regions ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not among processingRegions (${listed.join(', ')}), but the runtime there processes every prompt it serves`,
      );
    }
  }

  /** Whether prompts and answers may be processed in `region` (its geography, narrowed by `processingRegions`). */
  allowsProcessingIn(region: string): boolean {
    return this.processingRegions ? this.processingRegions.includes(region) : isInGeography(region, this.geography);
  }

  /** Whether `region` is one of the jurisdiction's regions. */
  includes(region: string): boolean {
    return this.regions.includes(region);
  }

  /** The jurisdiction's own host name under the agent's record name. */
  hostName(recordName: string): string {
    return `${this.name}.${recordName}`;
  }

  /** The runtime configuration's view of this jurisdiction. */
  toConfig(): JurisdictionConfig {
    return { name: this.name, regions: [...this.regions], geography: this.geography, restricted: this.restricted };
  }
}

/** Throws if a region belongs to two jurisdictions, or two jurisdictions share a name. */
export function validateJurisdictions(jurisdictions: readonly Jurisdiction[]): void {
  if (jurisdictions.length === 0) throw new MultiRegionAgentError('NoJurisdictions', 'jurisdictions must list at least one jurisdiction');
  const owner = new Map<string, string>();
  const names = new Set<string>();
  for (const jurisdiction of jurisdictions) {
    if (names.has(jurisdiction.name)) throw new MultiRegionAgentError('DuplicateJurisdiction', `jurisdictions: the name '${jurisdiction.name}' is used twice`);
    names.add(jurisdiction.name);
    for (const region of jurisdiction.regions) {
      const previous = owner.get(region);
      if (previous) {
        throw new MultiRegionAgentError(
          'RegionInTwoJurisdictions',
          `jurisdictions: region ${region} belongs to both '${previous}' and '${jurisdiction.name}'; a region belongs to exactly one jurisdiction`,
        );
      }
      owner.set(region, jurisdiction.name);
    }
  }
}
