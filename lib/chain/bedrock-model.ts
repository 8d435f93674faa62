import { inferenceGeographyOf, type InferenceGeography, type ModelPrice } from '../../lambda/agent/config';
import { MultiRegionAgentError } from '../errors';
import { isInGeography, isKnownRegion, type Jurisdiction } from '../governance/jurisdiction';

/**
 * Regions to which each geography's cross-region inference profiles may
 * route a request, as AWS lists them for recent models (late 2026). A
 * profile's IAM grant names the foundation model in each of them, so a
 * superset is safe: the grant is conditioned on the profile. Override per
 * model with `destinationRegions` when AWS's list for that model differs.
 */
export const DEFAULT_PROFILE_DESTINATIONS: Record<Exclude<InferenceGeography, 'global'>, readonly string[]> = {
  us: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'],
  'us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  eu: ['eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3'],
  apac: [
    'ap-east-2',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-south-1',
    'ap-south-2',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ap-southeast-5',
    'ap-southeast-7',
    'me-central-1',
  ],
  jp: ['ap-northeast-1', 'ap-northeast-3'],
  au: ['ap-southeast-2', 'ap-southeast-4'],
  ca: ['ca-central-1', 'ca-west-1'],
};

/** Where a Bedrock model is offered (its inference profiles and their destinations), whether it reads prompt-cache points, and its price. */
export interface BedrockModelProps {
  /**
   * The geographies in which AWS offers a cross-region inference profile for
   * this model (`eu` means `eu.<modelId>` exists).
   * @default - none: the model is called in-region by its foundation model id
   */
  readonly inferenceGeographies?: InferenceGeography[];
  /**
   * Regions where the model can be called in-region (on demand, without a
   * profile). Used when a jurisdiction's geography has no profile for it.
   * @default - any region of the jurisdiction
   */
  readonly inRegionAvailability?: string[];
  /**
   * Destination regions of this model's profiles, per geography, when they
   * differ from DEFAULT_PROFILE_DESTINATIONS.
   * @default - DEFAULT_PROFILE_DESTINATIONS
   */
  readonly destinationRegions?: Partial<Record<Exclude<InferenceGeography, 'global'>, string[]>>;
  /**
   * Whether the model reads Bedrock prompt-cache points: the runtime then
   * marks one after the instructions (and tool specifications), so long
   * instructions are not paid in full on every step of the tool loop.
   * Set it only for models that support prompt caching in Bedrock, since
   * others refuse a request with a cache point.
   * @default false
   */
  readonly promptCaching?: boolean;
  /**
   * On-demand price, for the EstimatedCost metric.
   * @default - no cost is estimated for this model
   */
  readonly price?: ModelPrice;
}

/** How one model is invoked from one jurisdiction. */
export interface ModelInvocation {
  /** What ConverseStream is called with: an inference profile id or the foundation model id. */
  readonly invocationId: string;
  /** The profile's geography, or undefined for an in-region call. */
  readonly geography?: InferenceGeography;
  /** Regions where the foundation model may run for this invocation ('*': the region-less model ARN of a global profile). */
  readonly destinationRegions: readonly string[];
}

/** A Bedrock foundation model, resolved per jurisdiction to its geographic inference profile. */
export class BedrockModel {
  /** Anthropic Claude Sonnet 4.5 (profiles in every geography; prompt caching). */
  static readonly ANTHROPIC_CLAUDE_SONNET_4_5 = BedrockModel.of('anthropic.claude-sonnet-4-5-20250929-v1:0', {
    inferenceGeographies: ['us', 'eu', 'apac', 'jp', 'au', 'global'],
    promptCaching: true,
    price: { inputPer1kTokens: 0.003, outputPer1kTokens: 0.015 },
  });

  /** Amazon Nova Pro: a different model family, for degraded fallback (prompt caching). */
  static readonly AMAZON_NOVA_PRO = BedrockModel.of('amazon.nova-pro-v1:0', {
    inferenceGeographies: ['us', 'eu', 'apac'],
    promptCaching: true,
    price: { inputPer1kTokens: 0.0008, outputPer1kTokens: 0.0032 },
  });

  /** A model by its foundation model id (`anthropic.claude-sonnet-4-5-20250929-v1:0`, never a profile id); throws naming what is wrong. */
  static of(modelId: string, props: BedrockModelProps = {}): BedrockModel {
    return new BedrockModel(modelId, props);
  }

  private constructor(
    /** The foundation model id, without a geography prefix. */
    readonly modelId: string,
    private readonly props: BedrockModelProps,
  ) {
    if (!/^[a-z0-9-]+\.[A-Za-z0-9._:-]+$/.test(modelId)) {
      throw new MultiRegionAgentError(
        'InvalidModelId',
        `BedrockModel: modelId must be a foundation model id such as anthropic.claude-sonnet-4-5-20250929-v1:0, got '${modelId}'`,
      );
    }
    // The profile prefix is added per jurisdiction; a profile id here would become `eu.eu.…` or a wrong model ARN.
    const unknownDestinations = Object.values(props.destinationRegions ?? {})
      .flat()
      .filter((region) => !isKnownRegion(region));
    if (unknownDestinations.length > 0) {
      throw new MultiRegionAgentError(
        'UnknownDestinationRegion',
        `BedrockModel ${modelId}: destinationRegions lists ${unknownDestinations.map((region) => `'${region}'`).join(', ')}, not AWS regions that aws-cdk-lib knows; the residency report and the IAM grant name every destination`,
      );
    }
    const profileGeography = inferenceGeographyOf(modelId);
    if (profileGeography) {
      throw new MultiRegionAgentError(
        'InferenceProfileAsModelId',
        `BedrockModel: modelId must be a foundation model id, not an inference profile id; got '${modelId}', pass '${modelId.slice(profileGeography.length + 1)}' with inferenceGeographies: ['${profileGeography}']`,
      );
    }
  }

  /** The on-demand price given, for the EstimatedCost metric; undefined when none was. */
  get price(): ModelPrice | undefined {
    return this.props.price;
  }

  /** Whether the model reads Bedrock prompt-cache points. */
  get promptCaching(): boolean {
    return this.props.promptCaching ?? false;
  }

  /** Refuses a profile that may route outside a strictly restricted jurisdiction's processing regions, suggesting what would stay inside. */
  private assertProfileStaysIn(jurisdiction: Jurisdiction, region: string, destinations: readonly string[]): void {
    const allowed = jurisdiction.processingRegions;
    if (!allowed) return;
    const outside = destinations.filter((destination) => !allowed.includes(destination));
    if (outside.length === 0) return;
    const geography = jurisdiction.geography as Exclude<InferenceGeography, 'global'>;
    const profile = `${geography}.${this.modelId}`;
    const inRegion = this.props.inRegionAvailability;
    const callInRegion = `call it in-region by its model id ${this.modelId}: BedrockModel.of('${this.modelId}', { inRegionAvailability: [...] }) without '${geography}' in inferenceGeographies`;
    const suggestion =
      inRegion === undefined
        ? `If Bedrock offers the model on demand in ${region}, ${callInRegion}; if AWS lists fewer destinations for this model's profile, set destinationRegions.${geography}.`
        : inRegion.includes(region)
          ? `Bedrock offers it on demand in ${region}: ${callInRegion}.`
          : `Bedrock does not offer it on demand in ${region} (inRegionAvailability): choose a model whose ${geography} profile stays inside, or allow those regions.`;
    throw new MultiRegionAgentError(
      'ProfileLeavesProcessingRegions',
      `model ${this.modelId}: inference profile ${profile}, called from ${region}, may process requests in ${outside.join(', ')}, outside the processing regions of jurisdiction '${jurisdiction.name}' (${allowed.join(', ')}). ${suggestion}`,
    );
  }

  /**
   * How this model is called from `region` of `jurisdiction`: through the
   * jurisdiction's geographic profile when one exists and `region` is one of
   * its source regions, else in-region.
   * Throws when neither keeps the request inside a restricted jurisdiction.
   */
  invocationFor(jurisdiction: Jurisdiction, region: string): ModelInvocation {
    const geography = jurisdiction.geography;
    const hasProfile = (this.props.inferenceGeographies ?? []).includes(geography);
    // Bedrock only accepts a geographic profile from a source region in its geography (global: any region).
    if (hasProfile && isInGeography(region, geography)) {
      // A global profile needs the source region's model as well as the region-less one it routes to.
      if (geography === 'global') return { invocationId: `global.${this.modelId}`, geography, destinationRegions: [region, '*'] };
      const destinations = this.props.destinationRegions?.[geography] ?? DEFAULT_PROFILE_DESTINATIONS[geography];
      const outside = destinations.filter((destination) => !isInGeography(destination, geography));
      if (jurisdiction.restricted && outside.length > 0) {
        throw new MultiRegionAgentError(
          'ProfileCrossesBorder',
          `model ${this.modelId}: destinationRegions for ${geography} include ${outside.join(', ')}, outside the geography of restricted jurisdiction '${jurisdiction.name}'`,
        );
      }
      this.assertProfileStaysIn(jurisdiction, region, destinations);
      return { invocationId: `${geography}.${this.modelId}`, geography, destinationRegions: destinations };
    }
    const inRegion = this.props.inRegionAvailability;
    if (inRegion === undefined || inRegion.includes(region)) {
      return { invocationId: this.modelId, destinationRegions: [region] };
    }
    const offered = (this.props.inferenceGeographies ?? []).join(', ') || 'none';
    const noProfile = hasProfile
      ? `its ${geography} inference profile cannot be called from ${region}, outside the ${geography} geography,`
      : `it has no ${geography} inference profile (profiles: ${offered})`;
    throw new MultiRegionAgentError(
      'ModelUnavailable',
      `model ${this.modelId} cannot serve region ${region} of jurisdiction '${jurisdiction.name}': ${noProfile} and is not offered in-region there${jurisdiction.restricted && this.props.inferenceGeographies?.includes('global') ? '; its global profile would cross the border of this restricted jurisdiction' : ''}`,
    );
  }
}
