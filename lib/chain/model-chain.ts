import type { ChainTarget } from '../../lambda/agent/config';
import type { BedrockModel, ModelInvocation } from './bedrock-model';
import { MultiRegionAgentError } from '../errors';
import type { Jurisdiction } from '../governance/jurisdiction';
import type { ProviderModel } from '../providers/provider-model';

/** A fallback spec: the primary model, the degraded models tried after it, and the outside providers tried last. */
export interface ModelChainProps {
  /** The model every region answers with when all is well. */
  readonly primary: BedrockModel;
  /**
   * Other models, tried in order when the primary cannot answer anywhere in
   * the jurisdiction. Their answers are flagged degraded (`x-agent-degraded`).
   * @default - no model fallback
   */
  readonly fallbacks?: BedrockModel[];
  /**
   * Whether to try the primary model in the jurisdiction's other regions
   * before falling back to another model.
   * @default true
   */
  readonly regionalFallback?: boolean;
  /**
   * Models outside Bedrock (`OpenAiModel`, `AnthropicModel`), tried in order
   * after every Bedrock target, as the `provider-fallback` tier (degraded).
   *
   * Note: a restricted jurisdiction refuses, at synthesis, any of them that
   * does not process inside it (see `OpenAiModelProps.residency`,
   * `AnthropicModelProps.inferenceGeo`); give a jurisdiction without them a
   * chain of its own (`MultiRegionAgentProps.chains`).
   * @default - no provider fallback
   */
  readonly providerFallbacks?: ProviderModel[];
}

/** A chain target with what IAM needs to know about it. */
export interface ResolvedTarget extends ChainTarget {
  /** The Bedrock model of the target. */
  readonly model: BedrockModel;
  /** How the target is invoked: the id called and where Bedrock may run it, which its IAM grant names. */
  readonly invocation: ModelInvocation;
}

/** A chain target outside Bedrock, with its model. */
export interface ResolvedProviderTarget extends ChainTarget {
  /** Always `provider-fallback`. */
  readonly tier: 'provider-fallback';
  /** The outside provider's model. */
  readonly model: ProviderModel;
}

/**
 * The declarative fallback spec, expanded per region into ordered targets:
 * the primary model in the region itself, the primary model in the
 * jurisdiction's other regions, then each degraded model (own region first).
 * Every target stays inside the jurisdiction.
 */
export class ModelChain {
  /** A chain of the primary model and, in order, the degraded models tried when it cannot answer in the jurisdiction. */
  static of(primary: BedrockModel, ...fallbacks: BedrockModel[]): ModelChain {
    return new ModelChain({ primary, fallbacks });
  }

  /** The model every region answers with when all is well. */
  readonly primary: BedrockModel;
  /** The degraded models, in the order they are tried. */
  readonly fallbacks: readonly BedrockModel[];
  private readonly regionalFallback: boolean;

  constructor(props: ModelChainProps) {
    if (!props.primary) throw new MultiRegionAgentError('EmptyChain', 'ModelChain: primary is required; a chain needs at least one model');
    const ids = [props.primary, ...(props.fallbacks ?? [])].map((model) => model.modelId);
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
    if (duplicate) throw new MultiRegionAgentError('DuplicateModel', `ModelChain: model ${duplicate} appears twice in primary and fallbacks`);
    this.primary = props.primary;
    this.fallbacks = props.fallbacks ?? [];
    this.regionalFallback = props.regionalFallback ?? true;
    const providers = (props.providerFallbacks ?? []).map((model) => model.displayName);
    const twice = providers.find((name, index) => providers.indexOf(name) !== index);
    if (twice) throw new MultiRegionAgentError('DuplicateModel', `ModelChain: provider target ${twice} appears twice in providerFallbacks`);
    this.providerFallbacks = props.providerFallbacks ?? [];
  }

  /** Models outside Bedrock, tried after every Bedrock target. */
  readonly providerFallbacks: readonly ProviderModel[];

  /**
   * The outside providers' targets of the runtime in `region`, called from
   * that region. Throws when one would process a restricted jurisdiction's
   * data outside it.
   */
  providerTargetsFor(jurisdiction: Jurisdiction, region: string): ResolvedProviderTarget[] {
    return this.providerFallbacks.map((model) => {
      model.assertAllowedIn(jurisdiction);
      return { modelId: model.modelId, region, tier: 'provider-fallback', model };
    });
  }

  /** Every model of the chain, primary first. */
  get models(): BedrockModel[] {
    return [this.primary, ...this.fallbacks];
  }

  /** The ordered targets of the runtime in `region`. */
  targetsFor(jurisdiction: Jurisdiction, region: string): ResolvedTarget[] {
    if (!jurisdiction.includes(region)) {
      throw new MultiRegionAgentError('RegionOutsideJurisdiction', `ModelChain: region ${region} is not a region of jurisdiction '${jurisdiction.name}'`);
    }
    const ownFirst = [region, ...jurisdiction.regions.filter((other) => other !== region)];
    const target = (model: BedrockModel, endpointRegion: string, tier: ChainTarget['tier']): ResolvedTarget => {
      const invocation = model.invocationFor(jurisdiction, endpointRegion);
      return { modelId: invocation.invocationId, region: endpointRegion, tier, model, invocation };
    };
    return [
      target(this.primary, region, 'primary'),
      ...(this.regionalFallback ? ownFirst.slice(1).map((other) => target(this.primary, other, 'regional-fallback')) : []),
      ...this.fallbacks.flatMap((model) => ownFirst.map((other) => target(model, other, 'model-fallback'))),
    ];
  }
}
