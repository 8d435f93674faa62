/**
 * Runs the Bedrock emulator and the embedded DynamoDB each in a child process
 * of its own, so that a benchmark measures the runtime without the
 * emulators' work on its event loop, nor one emulator's work delaying the
 * other's answers (in AWS they are separate services). The parent drives the
 * Bedrock host over the IPC channel: endpoints once, then fault commands.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { BedrockEmulator, type FaultRule } from '../local/bedrock-emulator';
import { LocalDynamoDb } from '../local/dynamodb';

export interface HostedEmulators {
  bedrock: Record<string, string>;
  dynamodb: string;
  injectFault(rule: FaultRule): Promise<void>;
  clearFaults(): Promise<void>;
  /** The Bedrock calls an injected fault applied to since the last time this was asked. */
  faultedCalls(): Promise<number>;
  close(): Promise<void>;
}

type Command = { type: 'fault'; rule: FaultRule } | { type: 'clear' } | { type: 'faulted' };

export async function hostEmulators(options: {
  regions: string[];
  firstTokenDelayMs: number;
  tables: string[];
  /** Target-health tables to create beside the conversation tables. */
  healthTables?: string[];
}): Promise<HostedEmulators> {
  const bedrock = await spawnHost<Record<string, string>>({ role: 'bedrock', regions: options.regions, firstTokenDelayMs: options.firstTokenDelayMs });
  const dynamodb = await spawnHost<string>({ role: 'dynamodb', tables: options.tables, healthTables: options.healthTables ?? [] }).catch((error: unknown) => {
    bedrock.child.kill();
    throw error;
  });
  const send = (command: Command) =>
    new Promise<unknown>((resolve) => {
      bedrock.child.once('message', resolve);
      bedrock.child.send(command);
    });
  return {
    bedrock: bedrock.ready,
    dynamodb: dynamodb.ready,
    injectFault: async (rule) => void (await send({ type: 'fault', rule })),
    clearFaults: async () => void (await send({ type: 'clear' })),
    faultedCalls: async () => (await send({ type: 'faulted' })) as number,
    close: async () => {
      await Promise.all(
        [bedrock, dynamodb].map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.kill();
            }),
        ),
      );
    },
  };
}

type HostOptions = { role: 'bedrock'; regions: string[]; firstTokenDelayMs: number } | { role: 'dynamodb'; tables: string[]; healthTables: string[] };

async function spawnHost<T>(options: HostOptions): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(__filename, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<T>((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`${options.role} host exited with ${code}`)));
  });
  return { child, ready };
}

async function serve(): Promise<void> {
  // The IPC channel closes when the parent goes, however it goes: a host must not outlive it.
  process.once('disconnect', () => process.exit());
  const options = JSON.parse(process.argv[2]) as HostOptions;
  if (options.role === 'dynamodb') {
    const dynamo = await LocalDynamoDb.start();
    for (const table of options.tables) await dynamo.createConversationTable(table);
    for (const table of options.healthTables) await dynamo.createHealthTable(table);
    process.send!(dynamo.endpoint);
    return;
  }
  const emulator = await BedrockEmulator.start({ regions: options.regions, firstTokenDelayMs: options.firstTokenDelayMs });
  process.on('message', (command: Command) => {
    if (command.type === 'faulted') {
      const faulted = emulator.calls().filter((call) => call.faulted).length;
      emulator.clearCalls();
      process.send!(faulted);
      return;
    }
    if (command.type === 'fault') emulator.injectFault(command.rule);
    else emulator.clearFaults();
    process.send!('ok');
  });
  process.send!(emulator.endpoints);
}

if (require.main === module) void serve();
