/// <reference lib="dom" />
/**
 * The playground's web page in headless Chromium (Debian's, driven by
 * playwright-core): a streamed answer with its path, then an injected fault
 * showing up as a counted fallback; live charts, the regions' picture, the
 * stored transcript, the fault buttons and the dashboard preview, with
 * screenshots written to test-artifacts/ (git-ignored).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { EXAMPLE_SYNTH_TIMEOUT_MS } from '../../local/example-regions';
import { Playground } from '../../local/playground';
import { scriptedRun } from './scripted-run';
import { sharedExampleRegions } from './example-assembly';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

let playground: Playground;
let browser: Browser;

beforeAll(async () => {
  playground = await Playground.start({ ...(await sharedExampleRegions()), port: 0, tokenDelayMs: 5 });
  // playwright-core gives each launch a fresh, empty profile.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // The example synthesizes with bundling first, as `npm run local` runs it.
}, 60_000 + EXAMPLE_SYNTH_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await playground?.close();
});

test('typing a message streams the answer and shows the path; an injected fault is counted as a fallback', async () => {
  const page = await browser.newPage();
  await page.goto(playground.url);

  // WHEN a US caller asks
  await page.selectOption('#location', 'us');
  await page.fill('#text', 'hello from the browser');
  await page.click('button[type=submit]');

  // THEN the answer streams in and names the primary path
  await page.waitForFunction(() => document.querySelector('#served')?.getAttribute('data-path') === 'primary');
  await page.waitForFunction(() => (document.querySelector('#answer')?.textContent ?? '').includes('hello from the browser'));
  expect(await page.textContent('#answer')).toBe(
    playground.emulator.expectedAnswer('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us-east-1', 'hello from the browser'),
  );

  // WHEN us-east-1's primary answers 503 and the caller asks again
  await page.selectOption('#fault-region', 'us-east-1');
  await page.click('#fault-503');
  await page.waitForFunction(() => (document.querySelector('#fault-status')?.textContent ?? '').includes('503'));
  await page.fill('#text', 'and now?');
  await page.click('button[type=submit]');

  // THEN the page shows the regional fallback, and the region's counters count it
  await page.waitForFunction(() => document.querySelector('#served')?.getAttribute('data-path') === 'regional-fallback');
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('tr[data-region="us-east-1"] td')].map((cell) => cell.textContent);
    return cells[3] === '1' && Number(cells[6]) > 0;
  });
  const row = await page.$$eval('tr[data-region="us-east-1"] td', (cells) => cells.map((cell) => cell.textContent));
  expect(row.slice(0, 7)).toEqual(['us-east-1', '2', '1', '1', '0', '0', '50']);

  // WHEN the US's outside provider is chosen as the fault's target and made to answer 503
  await page.selectOption('#fault-region', 'provider:openai:us');
  await page.click('#fault-503');
  // THEN the provider's emulator holds the fault, for the model the chain calls
  await page.waitForFunction(() => (document.querySelector('#fault-status')?.textContent ?? '').includes('openai (us) now answers 503'));
  expect(await page.$$eval('#fault-model option', (options) => options.map((option) => option.textContent))).toEqual(['every model', 'gpt-4o']);
  playground.providers.openai.clearFaults();
}, 60_000);

test('the page lists the caller’s conversations through the typed client and deletes one', async () => {
  // GIVEN a caller of the page's own, who asks once
  const page = await browser.newPage();
  await page.setExtraHTTPHeaders({ 'x-local-principal': 'arn:aws:iam::123456789012:user/page-lister' });
  await page.goto(playground.url, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => 'AgentClientLib' in globalThis);
  await page.selectOption('#location', 'eu');
  await page.fill('#text', 'hello from the list');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#transcript li[data-role="assistant"]').length === 1);
  const conversationId = await page.inputValue('#conversation');

  // THEN the conversation is listed
  await page.waitForSelector(`#conversations li[data-conversation-id="${conversationId}"]`);

  // WHEN it is deleted from the list
  await page.click(`#conversations li[data-conversation-id="${conversationId}"] .delete-conversation`);

  // THEN it is gone from the list and from the store
  await page.waitForSelector(`#conversations li[data-conversation-id="${conversationId}"]`, { state: 'detached' });
  const stored = await fetch(`${playground.url}/v1/conversations/${conversationId}`, {
    headers: { 'x-local-location': 'eu', 'x-local-principal': 'arn:aws:iam::123456789012:user/page-lister' },
  });
  expect(stored.status).toBe(404);
}, 120_000);

test('a tool call that needs approval shows Approve and Deny; clicking Approve runs it once and streams the rest of the answer', async () => {
  const page = await browser.newPage();
  await page.goto(playground.url);

  // WHEN an EU caller asks for a refund, which the example's issue_refund makes only once approved
  await page.selectOption('#location', 'eu');
  await page.click('#new-conversation');
  await page.fill('#text', 'Please refund it: issue_refund orderId=NW-10042 amountCents=4599');
  await page.click('button[type=submit]');

  // THEN the answer stops at the call, with Approve and Deny, and nothing was refunded yet
  await page.waitForSelector('#steps li.approval button.approve');
  expect(await page.textContent('#steps li.approval')).toContain('issue_refund {"orderId":"NW-10042","amountCents":4599} waits for your approval');
  expect(await page.textContent('#answer')).not.toContain('issue_refund=');

  // WHEN the caller approves
  await page.click('#steps li.approval button.approve');

  // THEN the refund runs, its result shows on its step, and the model's answer quotes it
  await page.waitForFunction(() => (document.querySelector('#answer')?.textContent ?? '').includes('issue_refund={"refundId":"RF-'));
  expect(await page.textContent('#answer')).toContain('"status":"issued","orderId":"NW-10042","amountCents":4599');
  expect(await page.$$eval('#steps li[data-tool-id]', (lines) => lines.map((line) => line.textContent))).toEqual([
    expect.stringMatching(/^step 1: issue_refund .* → ok in \d+ ms$/),
  ]);
  expect(await page.isDisabled('#steps li.approval button.deny')).toBe(true);
  await page.close();
});

test('the page draws live charts, the regions and their routing, the stored transcript with paths, every fault, and the dashboard preview with data', async () => {
  // GIVEN a run with faults of every kind behind it
  await scriptedRun(playground);
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.goto(playground.url);

  // WHEN a US caller asks for an order, then us-east-1 fails mid-stream once and the caller asks again
  await page.selectOption('#location', 'us');
  await page.fill('#text', 'Where is my order? lookup_order orderId=NW-10042');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#transcript li[data-role="assistant"]').length === 1);
  await page.selectOption('#fault-region', 'us-east-1');
  await page.fill('#fault-times', '1');
  await page.click('#fault-mid-stream');
  await page.waitForFunction(() => (document.querySelector('#fault-status')?.textContent ?? '').includes('fails mid-stream after 3 tokens'));
  await page.fill('#text', 'and the refund policy? refund_policy category=jackets');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#transcript li[data-role="assistant"]').length === 2);

  // THEN the transcript holds both answers with their paths, the first with its tool steps
  const transcript = await page.$$eval('#transcript li[data-role="assistant"]', (items) =>
    items.map((item) => [item.getAttribute('data-path'), item.querySelectorAll('.steps li').length > 0]),
  );
  // (us-east-1's breaker may still be open from the faults before: any tier, but always one)
  expect(transcript[0]).toEqual([expect.stringMatching(/^(primary|regional-fallback|model-fallback)$/), true]);
  expect(transcript[1][0]).toMatch(/^(primary|regional-fallback|model-fallback)$/);

  // WHEN us-west-2 goes down from the page
  await page.selectOption('#fault-region', 'us-west-2');
  await page.click('#region-down');

  // THEN the picture shows it down, and the US caller's route to us-east-1
  await page.waitForSelector('#map rect[data-region="us-west-2"][data-healthy="false"]');
  expect(await page.$$eval('#map line[data-routed="true"]', (lines) => lines.length)).toBe(1);
  // AND once the health checks (the synthesized 10 s and 3 failures, scaled) have taken it out, how long that took
  await page.waitForFunction(() => (document.querySelector('#failover')?.textContent ?? '').includes('Last region failure: us-west-2'), undefined, {
    timeout: 20_000,
  });
  expect(await page.textContent('#failover')).toMatch(/^Health checks every 10 s, 3 failures .* traffic moved after \d+ s \(with the TTL\)\.$/);
  await page.click('#region-up');
  for (const id of [
    '#fault-503',
    '#fault-429',
    '#fault-500',
    '#fault-504',
    '#fault-step-2',
    '#fault-stall',
    '#fault-slow',
    '#fault-mid-stream',
    '#fault-end-early',
    '#fault-clear',
  ]) {
    expect(await page.isVisible(id)).toBe(true);
  }

  // THEN every region's live charts and every widget of the dashboard preview are drawn with data
  await page.waitForFunction(() => document.querySelectorAll('#charts .live-region [data-has-data="true"] canvas').length === 24, undefined, {
    timeout: 20_000,
  });
  // AND each region's shared breakers, as its runtime reads them from the health table (the probes' recoveries at least)
  await page.waitForFunction(() =>
    [...document.querySelectorAll('#charts .live-region')].every((row) => row.querySelectorAll('table.shared-health tr[data-state="closed"]').length > 0),
  );
  await page.waitForFunction(
    () => {
      const widgets = [...document.querySelectorAll('#dashboard .widget')];
      return widgets.length > 0 && widgets.every((widget) => widget.getAttribute('data-has-data') === 'true');
    },
    undefined,
    { timeout: 20_000 },
  );
  const widgets = await page.$$eval('#dashboard .widget', (boxes) =>
    boxes.map((box) => [box.getAttribute('data-title'), box.querySelector('canvas') !== null || box.classList.contains('text')]),
  );
  expect(widgets).toHaveLength(playground.views.synthesized().dashboards[0].body.widgets.length);
  expect(widgets.filter(([, drawn]) => !drawn)).toEqual([]);
  expect(await page.textContent('#dashboard .widget.text h1')).toContain('support-agent');
  expect(await page.$$eval('#dashboard .widget .note', (notes) => notes.map((note) => note.textContent))).toEqual([
    expect.stringMatching(/^replication to us-west-2 \(ms\): cannot exist locally/),
    expect.stringMatching(/^replication to eu-central-1 \(ms\): cannot exist locally/),
  ]);

  // Screenshots are test artefacts (git-ignored), for a person to look at.
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'playground.png'), fullPage: true });
  await page.locator('#dashboard').screenshot({ path: path.join(ARTIFACTS, 'dashboard-preview.png') });
  await page.locator('#charts').screenshot({ path: path.join(ARTIFACTS, 'live-charts.png') });
}, 120_000);
