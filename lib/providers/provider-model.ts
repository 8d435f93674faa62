import type { ModelPrice, ProviderName, ProviderResidency } from '../../lambda/agent/config';
import { MultiRegionAgentError } from '../errors';
import type { Jurisdiction } from '../governance/jurisdiction';
import { ProviderApiKey } from './provider-api-key';

/** What every outside provider's model is configured with. */
export interface ProviderModelProps {
  /**
   * The Secrets Manager secret holding the provider's API key, in each
   * runtime's own region.
   * @default ProviderApiKey.create() - an empty secret per region, to be filled before the first call
   */
  readonly apiKey?: ProviderApiKey;
  /**
   * Price, for the EstimatedCost metric.
   * @default - no cost is estimated for this model
   */
  readonly price?: ModelPrice;
}

/** How an OpenAI model is called: its price, key and data-residency region. */
export interface OpenAiModelProps extends ProviderModelProps {
  /**
   * Where OpenAI processes the requests: the data-residency region of the
   * API key's project, whose host (`us.api.openai.com`, `eu.api.openai.com`)
   * the runtime calls; `global` calls `api.openai.com`.
   *
   * Note: the project itself must be created with that region (or allow
   * per-request residency); the key of a global project sent to
   * `eu.api.openai.com` is refused by OpenAI.
   * @default 'global'
   */
  readonly residency?: ProviderResidency;
}

/** How an Anthropic model is called: its price, key and inference geography. */
export interface AnthropicModelProps extends ProviderModelProps {
  /**
   * Where Anthropic runs inference, sent as the Messages API's
   * `inference_geo` on every request: `us` (US infrastructure only) or
   * `global` (any geography).
   * @default 'global'
   */
  readonly inferenceGeo?: Extract<ProviderResidency, 'us' | 'global'>;
}

/** The hosts each provider's residency option is served from (the runtime calls the same ones). */
export const PROVIDER_HOSTS: Record<ProviderName, Partial<Record<ProviderResidency, string>>> = {
  openai: { global: 'api.openai.com', us: 'us.api.openai.com', eu: 'eu.api.openai.com' },
  anthropic: { global: 'api.anthropic.com', us: 'api.anthropic.com' },
};

/**
 * A chain target outside Bedrock: a model of OpenAI's or Anthropic's own
 * API, tagged with where the provider processes the requests. A chain tries
 * it after its Bedrock tiers, as the `provider-fallback` tier (degraded).
 */
export abstract class ProviderModel {
  /** What the provider's residency option promises, for the residency report. */
  abstract readonly processingDescription: string;

  protected constructor(
    /** The provider: `openai` or `anthropic`. */
    readonly provider: ProviderName,
    /** The model name as the provider's API takes it (`gpt-4o`). */
    readonly modelId: string,
    /** Where the provider processes the requests: `us`, `eu` or `global`. */
    readonly residency: ProviderResidency,
    private readonly props: ProviderModelProps,
  ) {}

  /** The price given, for the EstimatedCost metric; undefined when none was. */
  get price(): ModelPrice | undefined {
    return this.props.price;
  }

  /** The key's secret, given or created per region. */
  get apiKey(): ProviderApiKey {
    return this.props.apiKey ?? ProviderApiKey.CREATE;
  }

  /** `openai gpt-4o (eu)`: how errors and the report name this target. */
  get displayName(): string {
    return `${this.provider} ${this.modelId} (${this.residency})`;
  }

  /**
   * Refuses this target in a restricted jurisdiction unless the provider
   * processes inside it: its residency must be the jurisdiction's
   * geography, and strict residency (processingRegions, AWS regions) cannot
   * be promised by a provider at all.
   */
  assertAllowedIn(jurisdiction: Jurisdiction): void {
    if (!jurisdiction.restricted) return;
    if (this.residency !== jurisdiction.geography) {
      throw new MultiRegionAgentError(
        'ProviderOutsideJurisdiction',
        `provider target ${this.displayName} processes data ${this.residency === 'global' ? 'anywhere in the world' : `in ${this.residency}`}, outside restricted jurisdiction '${jurisdiction.name}' (${jurisdiction.geography}); ` +
          `use a ${this.provider === 'openai' ? `residency: '${jurisdiction.geography}' project` : `inferenceGeo that lies in ${jurisdiction.geography}`} if the provider offers one, or leave the provider out of this jurisdiction's chain`,
      );
    }
    if (jurisdiction.processingRegions) {
      throw new MultiRegionAgentError(
        'ProviderOutsideProcessingRegions',
        `provider target ${this.displayName}: jurisdiction '${jurisdiction.name}' allows processing only in ${jurisdiction.processingRegions.join(', ')}, AWS regions the provider cannot be held to; leave the provider out of this jurisdiction's chain`,
      );
    }
  }
}

/** A model of OpenAI's Chat Completions API (streaming). */
export class OpenAiModel extends ProviderModel {
  /** GPT-4o, at OpenAI's list price (global processing; data-residency regions may cost more). */
  static gpt4o(props: OpenAiModelProps = {}): OpenAiModel {
    return OpenAiModel.of('gpt-4o', { price: { inputPer1kTokens: 0.0025, outputPer1kTokens: 0.01 }, ...props });
  }

  /** An OpenAI model by the name its API takes. */
  static of(modelId: string, props: OpenAiModelProps = {}): OpenAiModel {
    return new OpenAiModel(modelId, props);
  }

  readonly processingDescription: string;

  private constructor(modelId: string, props: OpenAiModelProps) {
    // Model names are lowercase words, digits, dots and dashes (gpt-4o, gpt-4.1-mini, o4-mini), optionally a dated snapshot.
    if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(modelId)) {
      throw new MultiRegionAgentError('InvalidModelId', `OpenAiModel: modelId must be an OpenAI model name such as gpt-4o or gpt-4.1-mini, got '${modelId}'`);
    }
    const residency = props.residency ?? 'global';
    assertResidency('OpenAiModel', 'residency', residency, ['us', 'eu', 'global']);
    super('openai', modelId, residency, props);
    this.processingDescription =
      residency === 'global'
        ? 'api.openai.com: any region OpenAI operates'
        : `${PROVIDER_HOSTS.openai[residency]}: a data-residency project of ${residency}, inference in ${residency} where OpenAI offers regional processing for the model`;
  }
}

/** A Claude model of Anthropic's own Messages API (streaming). */
export class AnthropicModel extends ProviderModel {
  /** Claude Sonnet 4.5, at Anthropic's list price. */
  static claudeSonnet45(props: AnthropicModelProps = {}): AnthropicModel {
    return AnthropicModel.of('claude-sonnet-4-5', { price: { inputPer1kTokens: 0.003, outputPer1kTokens: 0.015 }, ...props });
  }

  /** An Anthropic model by the name its API takes. */
  static of(modelId: string, props: AnthropicModelProps = {}): AnthropicModel {
    return new AnthropicModel(modelId, props);
  }

  readonly processingDescription: string;

  private constructor(modelId: string, props: AnthropicModelProps) {
    if (!/^claude-[a-z0-9.-]*[a-z0-9]$/.test(modelId)) {
      throw new MultiRegionAgentError(
        'InvalidModelId',
        `AnthropicModel: modelId must be an Anthropic API model name such as claude-sonnet-4-5 (not a Bedrock id), got '${modelId}'`,
      );
    }
    const residency = props.inferenceGeo ?? 'global';
    assertResidency('AnthropicModel', 'inferenceGeo', residency, ['us', 'global']);
    super('anthropic', modelId, residency, props);
    this.processingDescription =
      residency === 'global'
        ? 'api.anthropic.com, inference_geo global: any geography'
        : 'api.anthropic.com, inference_geo us: inference on US infrastructure only';
  }
}

function assertResidency(model: string, prop: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) {
    throw new MultiRegionAgentError('InvalidResidency', `${model}: ${prop} must be one of ${allowed.join(', ')}, got '${value}'`);
  }
}
