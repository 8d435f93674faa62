/**
 * The outside providers of the playground: the OpenAI and Anthropic
 * emulators and a Secrets Manager emulator holding their keys. The
 * deployment's configurations name secrets that exist only once deployed
 * (their ARNs are CloudFormation references), so each provider target's
 * secret is named here `<region>/<provider>-<residency>` and created with
 * the emulator's key; the runtimes read it through the real Secrets
 * Manager client, as deployed.
 */
import type { RuntimeConfig } from '../lambda/agent/config';
import { AnthropicEmulator } from './anthropic-emulator';
import type { ModelScript } from './model-script';
import { OpenAiEmulator } from './openai-emulator';
import { SecretsManagerEmulator } from './secrets-manager-emulator';

/** The key both provider emulators accept, and the secrets hold. */
const LOCAL_PROVIDER_KEY = 'local-provider-key';

export class ProviderServices {
  /** `models`: the emulated models' time to first token and pause between tokens, as the Bedrock emulator's, and their scripted turns. */
  static async start(host: string, models: { firstTokenDelayMs?: number; tokenDelayMs?: number; script?: ModelScript } = {}): Promise<ProviderServices> {
    const [openai, anthropic, secrets] = await Promise.all([
      OpenAiEmulator.start({ host, apiKeys: [LOCAL_PROVIDER_KEY], ...models }),
      AnthropicEmulator.start({ host, apiKeys: [LOCAL_PROVIDER_KEY], ...models }),
      // One emulator stands for Secrets Manager in every region: secret names carry the region.
      SecretsManagerEmulator.start({ region: 'local', host }),
    ]);
    return new ProviderServices(openai, anthropic, secrets);
  }

  private constructor(
    readonly openai: OpenAiEmulator,
    readonly anthropic: AnthropicEmulator,
    readonly secrets: SecretsManagerEmulator,
  ) {}

  /** The configuration with its provider targets' secrets created locally, and the local endpoints of the providers and Secrets Manager. */
  localize(config: RuntimeConfig): Pick<RuntimeConfig, 'chain'> & { endpoints: { secretsmanager: string; providers: Record<string, string> } } {
    const chain = config.chain.map((target) => {
      if (!target.provider) return target;
      const secret = `${config.region}/${target.provider.name}-${target.provider.residency}`;
      this.secrets.create(secret, LOCAL_PROVIDER_KEY);
      return { ...target, provider: { ...target.provider, secret } };
    });
    const providers = {
      'openai:global': this.openai.baseUrl('global'),
      'openai:us': this.openai.baseUrl('us'),
      'openai:eu': this.openai.baseUrl('eu'),
      'anthropic:global': this.anthropic.baseUrl,
      'anthropic:us': this.anthropic.baseUrl,
    };
    return { chain, endpoints: { secretsmanager: this.secrets.endpoint, providers } };
  }

  async close(): Promise<void> {
    await Promise.all([this.openai.close(), this.anthropic.close(), this.secrets.close()]);
  }
}
