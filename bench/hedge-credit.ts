/**
 * The hedge cap over a long run: one environment's HedgeCredit (the
 * runtime's own class) fed a million requests, a share of them slow, each
 * slow one asking for a hedge. What `bench:hedging` cannot show in its
 * 125 requests per environment, where the credit an environment starts
 * with pays for part of its hedges: how many slow calls find no credit once
 * that is spent, and what the cap lets through when the primary is slower
 * than it allows.
 *
 *   npm run bench:hedge-credit       (about a second)
 *
 * Slow calls are drawn independently per request from a seeded generator,
 * so every run prints the same table.
 */
import { HedgeCredit } from '../lambda/agent/chain/hedge-credit';
import { printTable } from './report';

const REQUESTS = 1_000_000;
const RATIO = 0.1;

/** A small seeded generator (mulberry32): the same draws on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function run(slowShare: number, burst: number): { slow: number; hedged: number } {
  const credit = new HedgeCredit({ ratio: RATIO, burst });
  const random = seeded(12);
  let slow = 0;
  let hedged = 0;
  for (let index = 0; index < REQUESTS; index += 1) {
    credit.messageStarted();
    if (random() >= slowShare) continue;
    slow += 1;
    if (credit.tryWithdraw()) hedged += 1;
  }
  return { slow, hedged };
}

const percent = (count: number) => `${((100 * count) / REQUESTS).toFixed(2)} %`;

const rows: string[][] = [];
for (const slowShare of [0.05, 0.1, 0.5]) {
  for (const burst of [5, 10, 20]) {
    const { slow, hedged } = run(slowShare, burst);
    rows.push([`${slowShare * 100} %`, String(burst), percent(slow), percent(hedged), percent(slow - hedged)]);
  }
}
printTable(['slow share', 'burst', 'slow requests', 'hedged (extra calls)', 'slow and not hedged'], rows);
process.stderr.write(`\n${REQUESTS.toLocaleString('en')} requests per row, one environment, cap ${RATIO * 100} % of requests, Node ${process.version}\n`);
