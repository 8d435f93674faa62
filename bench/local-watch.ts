/**
 * `agentctl local --watch`: from the save of the example's agent entry to the
 * first answer of the new code, split into synthesis of the app, the swap
 * (reading the assembly, loading the new runtimes) and the answer. Each round
 * changes the refund window of examples/support-agent/agent.ts (put back at
 * the end) and asks refund_policy a question whose answer the new window
 * changes, so the answer timed is the new code's. Once with cdk.json's app
 * command (`npx tsx bin/app.ts`) and once with `node --import tsx` (no npx).
 *
 *   npm run bench:local-watch        (BENCH_ROUNDS, default 3)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocal, type SwapResult } from '../local/run-local';
import { printRow, printSummary, seconds } from './report';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROOT = path.join(__dirname, '..');
const AGENT_ENTRY = path.join(ROOT, 'examples', 'support-agent', 'agent.ts');
const WINDOW = /const RETURN_WINDOW_DAYS = \d+;/;
/** A return 45 days after delivery: refused under a window of 30 days, accepted under 60. */
const QUESTION = 'refund_policy reason=changed-mind category=jackets daysSinceDelivery=45 opened=false giftCard=false';

const CASES = [
  { name: "cdk.json's app (npx tsx bin/app.ts)", app: undefined },
  { name: 'node --import tsx bin/app.ts', app: 'node --import tsx bin/app.ts' },
];

async function answer(url: string): Promise<string> {
  const minted = await fetch(`${url}/v1/conversations`, { method: 'POST' });
  const { conversationId } = (await minted.json()) as { conversationId: string };
  const response = await fetch(`${url}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: QUESTION }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`the answer was ${response.status}: ${text}`);
  return text;
}

const eligible = (text: string) => /\\"eligible\\":true/.test(text) || /"eligible":true/.test(text);

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const original = fs.readFileSync(AGENT_ENTRY, 'utf8');
  if (!WINDOW.test(original)) throw new Error(`${AGENT_ENTRY} no longer sets RETURN_WINDOW_DAYS: update this benchmark`);
  const rows: string[][] = [];
  try {
    for (const benchCase of CASES) {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-local-watch-'));
      const swaps: Array<(result: SwapResult) => void> = [];
      const session = await startLocal({
        appDirectory: ROOT,
        app: benchCase.app,
        outdir,
        watch: true,
        port: 0,
        firstTokenDelayMs: 0,
        tokenDelayMs: 0,
        onSwap: (result) => swaps.shift()?.(result),
      });
      try {
        for (let round = 1; round <= ROUNDS; round += 1) {
          const windowDays = round % 2 === 1 ? 60 : 30;
          const swapped = new Promise<SwapResult>((resolve) => swaps.push(resolve));
          const saved = performance.now();
          fs.writeFileSync(AGENT_ENTRY, original.replace(WINDOW, `const RETURN_WINDOW_DAYS = ${windowDays};`));
          const { ms, synthMs, error } = await swapped;
          if (error) throw error;
          const swappedAt = performance.now();
          const text = await answer(session.playground.url);
          const answered = performance.now();
          if (eligible(text) !== windowDays >= 45) throw new Error(`round ${round}: the answer is not the new code's (window ${windowDays} days): ${text}`);
          const debounceMs = swappedAt - saved - ms;
          rows.push([
            benchCase.name,
            String(round),
            String(session.playground.regions.length),
            seconds(debounceMs, 2),
            seconds(synthMs),
            seconds(ms - synthMs, 2),
            seconds(answered - swappedAt, 2),
            seconds(answered - saved),
          ]);
          printRow(rows.at(-1)!);
        }
      } finally {
        await session.close();
        fs.rmSync(outdir, { recursive: true, force: true });
      }
    }
  } finally {
    fs.writeFileSync(AGENT_ENTRY, original);
  }
  printSummary(['App command', 'Round', 'Regions', 'Save to synthesis start s', 'Synthesis s', 'Swap s', 'Answer s', 'Save to answer s'], rows);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
