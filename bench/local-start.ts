/**
 * `agentctl local` start time: synthesis (the app's command through
 * cdk.json, bundling on), reading the assembly, starting the playground,
 * and the first answer through the front door; for the example (4 regions),
 * the example spread over 8 regions, and the example's assembly given with
 * `--assembly` (no synthesis). In this process, over a fresh output
 * directory per round; then the command itself, spawned as `npm run local`
 * runs it (tsx bin/agentctl.ts local), from the spawn to the first answer,
 * with and without `--assembly`.
 *
 *   npm run bench:local-start        (BENCH_ROUNDS, default 2)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocal } from '../local/run-local';
import { printRow, printSummary, seconds } from './report';

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

interface Row {
  readonly name: string;
  readonly regions: number;
  readonly synthMs?: number;
  readonly readMs?: number;
  readonly startMs?: number;
  readonly answerMs?: number;
  readonly totalMs: number;
}

/** In this process: startLocal's own split, and the first answer. */
async function inProcess(name: string, options: { app?: string; outdir?: string; assembly?: string }): Promise<Row> {
  const session = await startLocal({ appDirectory: ROOT, ...options, port: 0, firstTokenDelayMs: 0, tokenDelayMs: 0 });
  try {
    const answerMs = await firstAnswerMs(session.playground.url);
    const { synthMs, readMs, startMs } = session.timings;
    return { name, regions: session.playground.regions.length, synthMs, readMs, startMs, answerMs, totalMs: synthMs + readMs + startMs + answerMs };
  } finally {
    await session.close();
  }
}

/** The command as a user types it (`npm run local -- …`, i.e. tsx bin/agentctl.ts local): from the spawn to the first answer. */
async function command(name: string, args: readonly string[]): Promise<Row> {
  const started = performance.now();
  const child = spawn(
    path.join(ROOT, 'node_modules', '.bin', 'tsx'),
    ['bin/agentctl.ts', 'local', '--port', '0', '--first-token-ms', '0', '--token-ms', '0', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const printed = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (/Ctrl-C stops everything/.test(output)) resolve(output);
      });
      child.once('exit', (code) => reject(new Error(`agentctl local exited with ${code} before it started:\n${output}`)));
    });
    const url = /front door (http:\/\/\S+)/.exec(printed)![1];
    await firstAnswerMs(url);
    const regions = printed.split('\n').filter((line) => /^\S+-\S+-\d\s/.test(line)).length;
    return { name, regions, totalMs: performance.now() - started };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
}

const cell = (ms: number | undefined, digits = 1) => (ms === undefined ? '' : seconds(ms, digits));

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const rows: string[][] = [];
  const report = (round: number, row: Row) => {
    rows.push([row.name, String(round), String(row.regions), cell(row.synthMs), cell(row.readMs), cell(row.startMs), cell(row.answerMs, 2), cell(row.totalMs)]);
    printRow(rows.at(-1)!);
  };
  for (let round = 1; round <= ROUNDS; round += 1) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-local-start-'));
    try {
      for (const benchCase of CASES)
        report(round, await inProcess(benchCase.name, { app: benchCase.app, outdir: path.join(outdir, benchCase.name.replace(/\W+/g, '-')) }));
      // The example's assembly just synthesized, as `npx cdk synth` would have left it.
      const exampleAssembly = path.join(outdir, CASES[0].name.replace(/\W+/g, '-'));
      report(round, await inProcess('example, 4 regions, --assembly', { assembly: exampleAssembly }));
      report(round, await command('`agentctl local` (spawned), example', ['--output', path.join(outdir, 'spawned')]));
      report(round, await command('`agentctl local --assembly` (spawned), example', ['--assembly', exampleAssembly]));
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }
  printSummary(['Case', 'Round', 'Regions', 'Synthesis s', 'Read s', 'Start s', 'First answer s', 'Total s'], rows);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
