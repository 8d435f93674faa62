/**
 * Runs the OpenAI and Secrets Manager emulators in a child process of their
 * own for bench/providers.ts (as bench/emulator-host.ts does for Bedrock and
 * DynamoDB): the parent gets their endpoints once, over the IPC channel.
 */
import { fork } from 'node:child_process';
import { OpenAiEmulator } from '../local/openai-emulator';
import { SecretsManagerEmulator } from '../local/secrets-manager-emulator';

/** The key the emulated OpenAI accepts and the emulated secret holds. */
export const BENCH_PROVIDER_KEY = 'bench-provider-key';

interface Endpoints {
  openaiUs: string;
  secretsmanager: string;
}

export async function hostProviders(options: { firstTokenDelayMs: number }): Promise<Endpoints & { close(): Promise<void> }> {
  const child = fork(__filename, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const endpoints = await new Promise<Endpoints>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Endpoints));
    child.once('exit', (code) => reject(new Error(`provider host exited with ${code}`)));
  });
  return {
    ...endpoints,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

async function serve(): Promise<void> {
  // The IPC channel closes when the parent goes, however it goes: the host must not outlive it.
  process.once('disconnect', () => process.exit());
  const options = JSON.parse(process.argv[2]) as { firstTokenDelayMs: number };
  const openai = await OpenAiEmulator.start({ apiKeys: [BENCH_PROVIDER_KEY], firstTokenDelayMs: options.firstTokenDelayMs });
  const secrets = await SecretsManagerEmulator.start({ region: 'us-east-1' });
  secrets.create('openai-us', BENCH_PROVIDER_KEY);
  process.send!({ openaiUs: openai.baseUrl('us'), secretsmanager: secrets.endpoint } satisfies Endpoints);
}

if (require.main === module) void serve();
