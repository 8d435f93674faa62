/**
 * The runtime configuration: one typed, validated document that lib/ produces
 * for each region and the Lambda reads from the `AGENT_CONFIG` environment
 * variable at cold start. It is the single source of truth shared by the
 * constructs (which import the types and the parser as plain data) and the
 * runtime. zod is used because it gives both the TypeScript type and a
 * validator with field paths from one declaration; its tree-shakable `mini`
 * build keeps the Lambda bundle about 400 KB smaller than the classic one.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { targetKey } from './chain/types';

// zod/mini ships no messages; English ones make the configuration errors readable.
z.config(en());

/** Name of the environment variable that carries the JSON configuration. */
export const CONFIG_ENV_VAR = 'AGENT_CONFIG';
/**
 * Name of the environment variable that carries `onBehalfCallers` (a JSON
 * array of ARNs): apart from AGENT_CONFIG because the grants that fill it
 * are made after the runtime exists, and the ARNs are known at deployment only.
 */
export const ON_BEHALF_CALLERS_ENV_VAR = 'AGENT_ON_BEHALF_CALLERS';

/** The tiers of a fallback chain, in the order they are tried. */
export const TIERS = ['primary', 'regional-fallback', 'model-fallback', 'provider-fallback'] as const;
/** A tier of a fallback chain: `primary`, `regional-fallback`, `model-fallback` or `provider-fallback`. */
export type Tier = (typeof TIERS)[number];

/**
 * Geographic prefixes of Bedrock cross-region inference profiles
 * (`eu.anthropic...`). `global` profiles may route anywhere in the world.
 */
export const INFERENCE_GEOGRAPHIES = ['us', 'us-gov', 'eu', 'apac', 'jp', 'au', 'ca', 'global'] as const;
/** The geography prefix of a Bedrock cross-region inference profile (`eu` in `eu.anthropic...`). */
export type InferenceGeography = (typeof INFERENCE_GEOGRAPHIES)[number];

/** Matches commercial, GovCloud, China and ISO partition region names. */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

const regionName = z.string().check(z.regex(REGION_PATTERN, 'must be an AWS region name such as eu-west-1'));

/**
 * The geography prefix of an inference profile id, or undefined for a plain
 * foundation model id (`anthropic.claude-...` has no geography).
 */
export function inferenceGeographyOf(modelId: string): InferenceGeography | undefined {
  const [first, ...rest] = modelId.split('.');
  if (rest.length < 2) return undefined;
  return (INFERENCE_GEOGRAPHIES as readonly string[]).includes(first) ? (first as InferenceGeography) : undefined;
}

/** The foundation model a model id calls, whatever the inference profile: `eu.anthropic.x` and `anthropic.x` are one model. */
export function foundationModelOf(modelId: string): string {
  const geography = inferenceGeographyOf(modelId);
  return geography ? modelId.slice(geography.length + 1) : modelId;
}

/** The model's family (its provider): models of one family read each other's reasoning blocks; others cannot. */
export function modelFamilyOf(modelId: string): string {
  return foundationModelOf(modelId).split('.')[0];
}

/** An integer with bounds, optionally defaulted: the common shape of the numeric settings. */
function integer(options: { min?: number; max?: number; positive?: boolean }) {
  const checks = [
    z.int(),
    ...(options.positive ? [z.positive()] : []),
    ...(options.min !== undefined ? [z.gte(options.min)] : []),
    ...(options.max !== undefined ? [z.lte(options.max)] : []),
  ];
  return z.number().check(...checks);
}

/** Providers outside Bedrock that a chain may fall back to. */
export const PROVIDERS = ['openai', 'anthropic'] as const;
/** An outside provider a chain may fall back to: `openai` or `anthropic`. */
export type ProviderName = (typeof PROVIDERS)[number];

/**
 * Where an outside provider processes a request: OpenAI's data-residency
 * project regions (served from `<region>.api.openai.com`) and Anthropic's
 * `inference_geo`; `global` may process it anywhere.
 */
export const PROVIDER_RESIDENCIES = ['us', 'eu', 'global'] as const;
/** Where an outside provider processes a request: `us`, `eu`, or `global` (anywhere). */
export type ProviderResidency = (typeof PROVIDER_RESIDENCIES)[number];

export const providerTargetSchema = z.object({
  name: z.enum(PROVIDERS),
  residency: z.enum(PROVIDER_RESIDENCIES),
  /** Name or ARN of the Secrets Manager secret, in the runtime's region, that holds the API key. */
  secret: z.string().check(z.minLength(1)),
});
export type ProviderTarget = z.output<typeof providerTargetSchema>;

export const chainTargetSchema = z.object({
  /** What ConverseStream is called with (an inference profile id or a foundation model id), or the outside provider's model name. */
  modelId: z.string().check(z.minLength(1)),
  /** The Bedrock Runtime endpoint region the call is sent to; for an outside provider, the runtime's own region (where its key is kept). */
  region: regionName,
  tier: z.enum(TIERS),
  /** The model reads Bedrock prompt-cache points: one follows the instructions, so long ones are not paid in full on every step. */
  promptCaching: z.optional(z.boolean()),
  /** Set for a target outside Bedrock: which provider, where it processes data, and its key's secret. */
  provider: z.optional(providerTargetSchema),
});
/** One target of a runtime's fallback chain, as the runtime configuration lists it: the model called, the endpoint region, the tier, and the outside provider when it is one (fields documented on `chainTargetSchema`). */
export type ChainTarget = z.output<typeof chainTargetSchema>;

export const jurisdictionSchema = z.object({
  /** Short name, also the DNS label of the jurisdiction's host (`eu.agent.example.com`). */
  name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a lowercase DNS label such as eu')),
  /** Regions where this jurisdiction's data may be stored and processed; the first is the home region. */
  regions: z.array(regionName).check(z.minLength(1)),
  /** The inference profile geography used for this jurisdiction's models. */
  geography: z.enum(INFERENCE_GEOGRAPHIES),
  /** A restricted jurisdiction never lets a request's data leave its regions. */
  restricted: z.boolean(),
});
export type JurisdictionConfig = z.output<typeof jurisdictionSchema>;

export const priceSchema = z.object({
  /** USD per 1,000 input tokens. */
  inputPer1kTokens: z.number().check(z.gte(0)),
  /** USD per 1,000 output tokens. */
  outputPer1kTokens: z.number().check(z.gte(0)),
});
/** A model's on-demand price in USD per 1,000 input and output tokens, for the EstimatedCost metric. */
export type ModelPrice = z.output<typeof priceSchema>;

export const runtimeConfigSchema = z
  .object({
    /** The region this runtime runs in. */
    region: regionName,
    jurisdiction: jurisdictionSchema,
    /** Ordered targets; the engine keeps tier order and sorts within a tier by observed latency. */
    chain: z.array(chainTargetSchema).check(z.minLength(1)),
    /** Public host name of every jurisdiction, used to answer 421 with the right host. */
    jurisdictionHosts: z._default(z.record(z.string(), z.string()), {}),
    /**
     * The IAM roles and users allowed to name an end user (`x-agent-end-user`) and act for them
     * (`AgentRuntime.grantInvokeOnBehalfOfUsers`); a role is given by its role ARN.
     */
    onBehalfCallers: z._default(z.array(z.string().check(z.regex(/^arn:[a-z-]+:(iam|sts)::\d{12}:[!-~]+$/, 'must be the ARN of an IAM role or user'))), []),
    table: z.object({
      name: z.string().check(z.minLength(3), z.maxLength(255)),
      /** The jurisdiction's home region, where the authoritative copy is read and written. */
      homeRegion: regionName,
      /** How many past turns are sent to the model with each message. */
      historyTurns: z._default(integer({ min: 0, max: 200 }), 20),
      /** The most UTF-8 bytes of past exchanges sent with each message: older exchanges are left out first. */
      historyBytes: z._default(integer({ min: 0, max: 10_000_000 }), 200_000),
      /** Items expire this many days after their last write. */
      ttlDays: z._default(integer({ min: 1, max: 3650 }), 30),
    }),
    deadlines: z.prefault(
      z.object({
        /** TCP/HTTP2 connection timeout on the Bedrock client; the SDK default (0) waits forever. */
        connectTimeoutMs: z._default(integer({ positive: true }), 1000),
        /** An attempt that has not produced its first token by then is abandoned. */
        firstTokenTimeoutMs: z._default(integer({ positive: true }), 5000),
        /** Once streaming, the longest silence tolerated between two chunks. */
        idleTimeoutMs: z._default(integer({ positive: true }), 10000),
        /** Budget of one request across every target. */
        totalBudgetMs: z._default(integer({ positive: true }), 60000),
        /** Kept back from the Lambda's remaining time so the function never times out mid-chain: covers the last turn write (stateTimeoutMs) and the stream's end. */
        reserveMs: z._default(integer({ min: 0 }), 3000),
        /** Timeout of each DynamoDB call to the home region; past it the request degrades visibly. */
        stateTimeoutMs: z._default(integer({ positive: true }), 2000),
        /**
         * The longest an event stream stays silent once it has started: after this long with nothing sent (a tool
         * running, a model thinking), an SSE comment (`: ping`) goes out, so that proxies between the user and the
         * API (CloudFront 30 s, an ALB 60 s) do not cut it as idle.
         */
        keepAliveMs: z._default(integer({ min: 100, max: 60_000 }), 15_000),
      }),
      {},
    ),
    breaker: z.prefault(
      z.object({
        /** Consecutive failures that open a target's breaker. */
        failureThreshold: z._default(integer({ positive: true }), 3),
        /** How long an open breaker skips its target before a half-open probe. */
        cooldownMs: z._default(integer({ positive: true }), 30000),
      }),
      {},
    ),
    /** Outside providers' API keys are read again after this long (and once on a 401, for rotation). */
    providerKeyTtlMs: z._default(integer({ positive: true }), 300_000),
    /**
     * The budget of fallback calls a request makes after its first one (see chain/retry-budget.ts), a cap only while
     * the fallback targets show overload: over it, a request whose first target failed gets 503 at once. Strict, so
     * that the removed `regionMinPerWindow` is refused, not ignored.
     */
    retryBudget: z.prefault(
      z.strictObject({
        enabled: z._default(z.boolean(), true),
        /** Fallback calls allowed per request (message) in the window: at least one in a hundred, at most three per request. */
        ratio: z._default(z.number().check(z.gte(0.01), z.lte(3)), 0.2),
        /** Fallback calls allowed in any window, whatever the traffic; unset, 3 or one walk of the whole chain (its length − 1), whichever is more. */
        minPerWindow: z.optional(integer({ min: 0, max: 1000 })),
        /** Length of the sliding window: between a second and ten minutes. */
        windowMs: z._default(integer({ min: 1000, max: 600_000 }), 10_000),
        /** Fallback calls per second the whole region allows, whatever its traffic (with shared health): Finagle's 10 by default, 0–10000. */
        regionMinPerSecond: z._default(z.number().check(z.gte(0), z.lte(10_000)), 10),
      }),
      {},
    ),
    /**
     * Hedged first tokens (see chain/hedging.ts), off when absent: a target with no first token after the delay
     * has the next target started beside it. Capped per environment (see chain/hedge-credit.ts): over any run of
     * n requests, at most `burst + maxRatio × n` hedges. Strict, so that the removed `windowMs` is refused, not ignored.
     */
    hedge: z.optional(
      z.strictObject({
        /** The delay before hedging, or its least value with `percentile`: from 10 ms to a minute. */
        afterMs: z._default(integer({ min: 10, max: 60_000 }), 1000),
        /** Hedge after this percentile (50–99.9) of the target's recent first-token times, once it has some. */
        percentile: z.optional(z.number().check(z.gte(50), z.lte(99.9))),
        /** Hedges earned per request: above 0, at most 0.1. */
        maxRatio: z._default(z.number().check(z.gt(0), z.lte(0.1)), 0.1),
        /** Hedges an environment may start beyond `maxRatio`: the most credit it keeps, and its credit at start (1–100). */
        burst: z._default(integer({ min: 1, max: 100 }), 10),
      }),
    ),
    /**
     * Target health shared by the region's environments through a DynamoDB table in the runtime's
     * region (see health/shared-target-health.ts); absent, each environment learns alone.
     */
    sharedHealth: z.optional(
      z.object({
        tableName: z.string().check(z.minLength(3), z.maxLength(255)),
        /** How often each environment reads the region's records: between a second and a minute. */
        refreshMs: z._default(integer({ min: 1000, max: 60_000 }), 3000),
      }),
    ),
    /** Number of recent time-to-first-token samples averaged per target. */
    latencySamples: z._default(integer({ positive: true, max: 1000 }), 20),
    inference: z.prefault(
      z.object({
        maxTokens: z._default(integer({ positive: true }), 1024),
        temperature: z.optional(z.number().check(z.gte(0), z.lte(1))),
        systemPrompt: z.optional(z.string()),
      }),
      {},
    ),
    limits: z.prefault(
      z.object({
        /** Largest accepted message text, in UTF-8 bytes; larger gets 413. */
        maxTextBytes: z._default(integer({ positive: true }), 32768),
        /** Largest tool result given to the model and stored, in UTF-8 bytes of JSON; a larger one is cut, visibly. */
        toolResultBytes: z._default(integer({ min: 256, max: 200_000 }), 32768),
        /** How long a tool call waits for its owner's approval; after it, the call reads as denied ("denied: approval expired"). */
        approvalTtlSeconds: z._default(integer({ min: 1, max: 30 * 86_400 }), 86_400),
      }),
      {},
    ),
    /** Price per model id, used for the EstimatedCost metric; unpriced models report no cost. */
    prices: z._default(z.record(z.string(), priceSchema), {}),
    observability: z.prefault(
      z.object({
        metricsNamespace: z._default(z.string().check(z.minLength(1)), 'MultiRegionAgent'),
        serviceName: z._default(z.string().check(z.minLength(1)), 'multi-region-agent'),
        /** Log prompts and answers; off by default so logs carry no message text. */
        logMessageText: z._default(z.boolean(), false),
      }),
      {},
    ),
    /** Endpoint overrides for local runs against emulators; never set in a deployment. */
    endpoints: z.optional(
      z.object({
        bedrock: z.optional(z.record(z.string(), z.url())),
        dynamodb: z.optional(z.url()),
        /** The Lambda API, for tools that are Lambda functions. */
        lambda: z.optional(z.url()),
        /** Secrets Manager, where outside providers' keys are read. */
        secretsmanager: z.optional(z.url()),
        /** Base URL per outside provider and residency (`openai:eu`), replacing the provider's own host. */
        providers: z.optional(z.record(z.string(), z.url())),
      }),
    ),
  })
  .check(
    z.superRefine((config, ctx) => {
      const { jurisdiction } = config;
      if (!jurisdiction.regions.includes(config.region)) {
        ctx.addIssue({ code: 'custom', path: ['region'], message: `${config.region} is not a region of jurisdiction ${jurisdiction.name}` });
      }
      if (!jurisdiction.regions.includes(config.table.homeRegion)) {
        ctx.addIssue({
          code: 'custom',
          path: ['table', 'homeRegion'],
          message: `${config.table.homeRegion} is not a region of jurisdiction ${jurisdiction.name}`,
        });
      }
      // The reserve must fit the last turn write, or a Lambda could time out in the middle of it.
      if (config.deadlines.reserveMs < config.deadlines.stateTimeoutMs) {
        ctx.addIssue({
          code: 'custom',
          path: ['deadlines', 'reserveMs'],
          message: `${config.deadlines.reserveMs} must be at least deadlines.stateTimeoutMs (${config.deadlines.stateTimeoutMs}), the longest the last turn write may take`,
        });
      }
      const seen = new Set<string>();
      config.chain.forEach((target, index) => {
        const key = targetKey(target);
        if (seen.has(key)) {
          ctx.addIssue({ code: 'custom', path: ['chain', index], message: `duplicate target ${key}` });
        }
        seen.add(key);
        // A provider's tier and its `provider` field go together: the tier is what the headers and metrics name.
        if ((target.tier === 'provider-fallback') !== (target.provider !== undefined)) {
          ctx.addIssue({ code: 'custom', path: ['chain', index, 'tier'], message: 'an outside provider target, and only one, has tier provider-fallback' });
        }
      });
    }),
  );

/** What lib/ writes (defaults may be omitted). */
export type RuntimeConfigInput = z.input<typeof runtimeConfigSchema>;
/** What the runtime works with (defaults filled in). */
export type RuntimeConfig = z.output<typeof runtimeConfigSchema>;

/** Thrown when the configuration is invalid; the message names every bad field. */
export class RuntimeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeConfigError';
  }
}

/** Validates a configuration object, filling defaults. */
export function validateRuntimeConfig(input: unknown): RuntimeConfig {
  const result = runtimeConfigSchema.safeParse(input);
  if (!result.success) {
    const fields = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new RuntimeConfigError(`Invalid agent runtime configuration: ${fields.join('; ')}`);
  }
  return result.data;
}

/** Reads and validates the configuration from the environment, as the Lambda does at cold start. */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const raw = env[CONFIG_ENV_VAR];
  if (!raw) throw new RuntimeConfigError(`Invalid agent runtime configuration: ${CONFIG_ENV_VAR} is not set`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new RuntimeConfigError(`Invalid agent runtime configuration: ${CONFIG_ENV_VAR} is not JSON (${(error as Error).message})`);
  }
  const onBehalfCallers = env[ON_BEHALF_CALLERS_ENV_VAR];
  if (onBehalfCallers && typeof parsed === 'object' && parsed !== null) {
    try {
      parsed = { ...parsed, onBehalfCallers: JSON.parse(onBehalfCallers) };
    } catch (error) {
      throw new RuntimeConfigError(`Invalid agent runtime configuration: ${ON_BEHALF_CALLERS_ENV_VAR} is not JSON (${(error as Error).message})`);
    }
  }
  return validateRuntimeConfig(parsed);
}
