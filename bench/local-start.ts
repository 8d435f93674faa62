/**
 * `agentctl local` start time: synthesis (the app's command through
 * cdk.json, bundling on), reading the assembly, starting the playground,
 * and the first answer through the front door; for the example (4 regions)
 * and the example spread over 8 regions. Each case runs in this process
 * once per round, over a fresh output directory.
 *
 *   npm run bench:local-start        (BENCH_ROUNDS, default 2)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocal } from '../local/run-local';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ROOT = path.join(__dirname, '..');

const CASES = [
  { name: 'example, 4 regions', app: undefined },
  { name: 'example over 8 regions', app: `node --import tsx ${path.join(__dirname, 'local-start-app.ts')}` },
];

async function firstAnswerMs(url: string): Promise<number> {
  const started = performance.now();
  const minted = await fetch(`${url}/v1/conversations`, { method: 'POST' });
  const { conversationId } = (await minted.json()) as { conversationId: string };
  const answer = await fetch(`${url}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'hello' }),
  });
  await answer.text();
  if (answer.status !== 200) throw new Error(`the first answer was ${answer.status}`);
  return performance.now() - started;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const rows: string[] = [];
  for (const benchCase of CASES) {
    for (let round = 1; round <= ROUNDS; round += 1) {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-local-start-'));
      try {
        const session = await startLocal({ appDirectory: ROOT, app: benchCase.app, outdir, port: 0, firstTokenDelayMs: 0, tokenDelayMs: 0 });
        const answerMs = await firstAnswerMs(session.playground.url);
        await session.close();
        const { synthMs, readMs, startMs } = session.timings;
        const total = synthMs + readMs + startMs + answerMs;
        rows.push(
          `| ${benchCase.name} | ${round} | ${session.playground.regions.length} | ${(synthMs / 1000).toFixed(1)} | ${(readMs / 1000).toFixed(1)} | ${(startMs / 1000).toFixed(1)} | ${(answerMs / 1000).toFixed(2)} | ${(total / 1000).toFixed(1)} |`,
        );
        process.stdout.write(`${rows.at(-1)}\n`);
      } finally {
        fs.rmSync(outdir, { recursive: true, force: true });
      }
    }
  }
  process.stdout.write(
    [
      '',
      `load average: ${os
        .loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')} on ${os.cpus().length} cores`,
      '',
      '| Case | Round | Regions | Synthesis s | Read s | Start s | First answer s | Total s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
