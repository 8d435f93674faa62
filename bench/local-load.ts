/**
 * Sustained local load: `npm run local` (the playground: Bedrock emulator,
 * embedded DynamoDB, one runtime per region, front door) in a child process,
 * driven by autocannon from this one over loopback, each case bounded in
 * requests and time. Every request is a new conversation's first message
 * (a state read, an exchange claim, two turn writes and a streamed answer).
 *
 * Cases, all against the same emulated model with no artificial delay:
 * - the emulator alone: ConverseStream on the region's Bedrock endpoint;
 * - the runtime: the region's agent API directly;
 * - the front door: the same request routed as Route 53 would.
 * The added latency is each case's percentile minus the emulator's.
 *
 *   npm run bench:local-load        (about a minute)
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import autocannon from 'autocannon';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const CASE_TIME_LIMIT_MS = 60_000;

type Case = { name: string; url: string; headers: Record<string, string>; body: string; newConversationEachTime: boolean };
type Result = { name: string; rps: number; p50: number; p99: number; failures: number; completed: number };

async function startPlayground(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', 'bin', 'agentctl.ts'), 'local', '--port', '0', '--first-token-ms', '0', '--token-ms', '0'],
    {
      cwd: path.join(__dirname, '..'),
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let printed = '';
    child.stdout.on('data', (chunk: Buffer) => {
      printed += String(chunk);
      const match = /front door (http:\/\/\S+?)\s/.exec(printed);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`npm run local exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, stop };
}

async function run(benchCase: Case, requests: number): Promise<Result> {
  let conversation = 0;
  const options: autocannon.Options = {
    url: benchCase.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...benchCase.headers },
    connections: CONNECTIONS,
    amount: requests,
    requests: [
      {
        method: 'POST',
        body: benchCase.body,
        setupRequest: (request) =>
          benchCase.newConversationEachTime ? { ...request, path: `/v1/conversations/load-${process.pid}-${(conversation += 1)}/messages` } : request,
      },
    ],
  };
  let stop = () => {};
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    stop = () => instance.stop();
  });
  // Bounded in time too: a case that has not made its requests by then stops and reports what it made.
  const limit = setTimeout(() => stop(), CASE_TIME_LIMIT_MS);
  const result = await finished;
  clearTimeout(limit);
  return {
    name: benchCase.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    completed: result['2xx'],
  };
}

async function main(): Promise<void> {
  const playground = await startPlayground();
  try {
    // One request through the front door names the region and model it routes to by default.
    const warmUp = await fetch(`${playground.url}/v1/conversations/load-warm-up/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"hello"}',
    });
    await warmUp.text();
    const region = warmUp.headers.get('x-agent-region')!;
    const model = warmUp.headers.get('x-agent-model')!;
    const regions = (await (await fetch(`${playground.url}/_local/regions`)).json()) as Array<{ region: string; baseUrl: string; bedrockEndpoint: string }>;
    const target = regions.find((candidate) => candidate.region === region)!;
    const agentRequest = JSON.stringify({ text: 'how far is the moon' });
    const cases: Case[] = [
      {
        name: 'emulator alone (ConverseStream)',
        url: `${target.bedrockEndpoint}/model/${encodeURIComponent(model)}/converse-stream`,
        headers: {},
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'how far is the moon' }] }] }),
        newConversationEachTime: false,
      },
      { name: `runtime (${region} directly)`, url: target.baseUrl, headers: {}, body: agentRequest, newConversationEachTime: true },
      { name: 'front door + runtime', url: playground.url, headers: { 'x-local-location': 'us' }, body: agentRequest, newConversationEachTime: true },
    ];
    // An unmeasured tenth of the load first, so that no case pays the others' JIT warm-up.
    for (const benchCase of cases) await run(benchCase, Math.ceil(REQUESTS / 10));
    const results: Result[] = [];
    for (const benchCase of cases) results.push(await run(benchCase, REQUESTS));

    const [baseline] = results;
    process.stdout.write(`Local load: ${REQUESTS} requests per case over ${CONNECTIONS} connections, model ${model} in ${region}, Node ${process.version}\n\n`);
    process.stdout.write('| case | requests/s | p50 | p99 | added p50 | added p99 | failed |\n|---|---|---|---|---|---|---|\n');
    for (const result of results) {
      const added = (key: 'p50' | 'p99') => (result === baseline ? '' : `${(result[key] - baseline[key]).toFixed(0)} ms`);
      process.stdout.write(
        `| ${result.name} | ${result.rps.toFixed(0)} | ${result.p50} ms | ${result.p99} ms | ${added('p50')} | ${added('p99')} | ${result.failures} of ${result.failures + result.completed} |\n`,
      );
    }
  } finally {
    await playground.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
