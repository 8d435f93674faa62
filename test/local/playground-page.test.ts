/// <reference lib="dom" />
/**
 * The playground's web page in headless Chromium (Debian's, driven by
 * playwright-core): a streamed answer with its path, then an injected fault
 * showing up as a counted fallback; the views and their tabs, the live
 * charts one region at a time, the regions' picture, the stored transcript,
 * the fault buttons, the dashboard preview and the shared health, for the
 * example's four regions and for a deployment of one; screenshots of each
 * view are written to test-artifacts/ (git-ignored).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { LocalDeployment } from '../../local/assembly/read-assembly';
import { EXAMPLE_SYNTH_TIMEOUT_MS } from '../../local/example-regions';
import { Playground } from '../../local/playground';
import { CALLER_LOCATIONS } from '../../local/views';
import { scriptedRun } from './scripted-run';
import { sharedExampleRegions } from './example-assembly';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

let deployment: LocalDeployment;
let playground: Playground;
let browser: Browser;

beforeAll(async () => {
  deployment = await sharedExampleRegions();
  playground = await Playground.start({ ...deployment, port: 0, tokenDelayMs: 5 });
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
  await page.click('#tab-regions');
  await page.selectOption('#fault-region', 'us-east-1');
  await page.click('#fault-503');
  await page.waitForFunction(() => (document.querySelector('#fault-status')?.textContent ?? '').includes('503'));
  await page.click('#tab-chat');
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

  // AND the map says where the answer ran and where its model answered, each note inside its region's box
  await page.click('#tab-regions');
  const notes = await page.$$eval('#map text[data-note]', (labels) =>
    (labels as SVGTextElement[]).map((label) => {
      const box = document.querySelector<SVGRectElement>(`#map rect[data-region="${label.dataset.note}"]`)!.getBBox();
      const text = label.getBBox();
      return { region: label.dataset.note, text: label.textContent, inside: text.x >= box.x && text.x + text.width <= box.x + box.width };
    }),
  );
  expect(notes).toEqual([
    { region: 'us-east-1', text: 'last runtime', inside: true },
    { region: 'us-west-2', text: 'model via regional-fallback', inside: true },
  ]);

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

/** What the page shows of its views: the panels shown, the tabs selected, the tabs in the tab order, and the URL's hash. */
function viewsOf(page: Page) {
  return page.evaluate(() => ({
    shown: [...document.querySelectorAll<HTMLElement>('[role="tabpanel"]')].filter((panel) => !panel.hidden).map((panel) => panel.id),
    selected: [...document.querySelectorAll('[role="tab"][aria-selected="true"]')].map((tab) => tab.id),
    inTabOrder: [...document.querySelectorAll<HTMLElement>('[role="tab"]')].filter((tab) => tab.tabIndex === 0).map((tab) => tab.id),
    hash: location.hash,
  }));
}
const only = (view: string, hash = `#/${view}`) => ({ shown: [`view-${view}`], selected: [`tab-${view}`], inTabOrder: [`tab-${view}`], hash });
const shown = (page: Page, view: string) => page.waitForFunction((id) => document.getElementById(`view-${id}`)?.hidden === false, view);
const chartedRegions = (page: Page) => page.$$eval('#charts .live-region', (rows) => rows.map((row) => row.getAttribute('data-region')));

test('the page shows one view at a time; its tabs switch by click and by arrow keys, and the URL hash keeps the view over a reload and back/forward', async () => {
  const page = await browser.newPage();
  await page.goto(playground.url);

  // THEN the chat is shown alone, its tab selected and the only tab in the tab order
  expect(await viewsOf(page)).toEqual(only('chat', ''));
  // AND each tab controls a panel that it labels
  expect(
    await page.$$eval('[role="tablist"] [role="tab"]', (tabs) =>
      tabs.map((tab) => document.getElementById(tab.getAttribute('aria-controls') ?? '')?.getAttribute('aria-labelledby')),
    ),
  ).toEqual(['tab-chat', 'tab-regions', 'tab-charts', 'tab-dashboard', 'tab-health']);

  // WHEN Regions & faults is clicked
  await page.click('#tab-regions');
  // THEN it alone is shown, and the hash names it
  await shown(page, 'regions');
  expect(await viewsOf(page)).toEqual(only('regions'));

  // WHEN the arrow keys, End and Home move along the tabs (wrapping at either end)
  for (const [key, view] of [
    ['ArrowRight', 'charts'],
    ['End', 'health'],
    ['ArrowRight', 'chat'],
    ['ArrowLeft', 'health'],
    ['Home', 'chat'],
    ['ArrowLeft', 'health'],
  ]) {
    await page.keyboard.press(key);
    // THEN each shows its view and keeps the focus on its tab
    await shown(page, view);
    expect(await viewsOf(page)).toEqual(only(view));
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`tab-${view}`);
  }

  // WHEN the page is reloaded, THEN the same view is shown
  await page.reload();
  expect(await viewsOf(page)).toEqual(only('health'));
  // WHEN back, back and forward
  await page.goBack();
  await shown(page, 'chat');
  expect(await viewsOf(page)).toEqual(only('chat'));
  await page.goBack();
  await shown(page, 'health');
  await page.goForward();
  await shown(page, 'chat');
  expect(await viewsOf(page)).toEqual(only('chat'));
  await page.close();
}, 60_000);

test('the live charts show one region at a time: the picker lists every region, starts at the last answer’s, and the pick is in the link', async () => {
  // GIVEN a page opened on the live charts before any answer
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.goto(`${playground.url}/#/charts`);

  // THEN the picker lists every region of the deployment, and the first region's charts are shown, alone
  await page.waitForSelector('#charts .live-region[data-region="us-east-1"] .chart canvas');
  expect(await page.$$eval('#chart-region option', (options) => options.map((option) => option.getAttribute('value')))).toEqual(
    playground.regions.map((region) => region.region),
  );
  expect(await chartedRegions(page)).toEqual(['us-east-1']);

  // WHEN an EU caller asks, and the charts are shown again
  await page.click('#tab-chat');
  await page.selectOption('#location', 'eu');
  await page.click('#new-conversation');
  await page.fill('#text', 'which region are you?');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => /runtime [a-z]+-[a-z]+-\d/.test(document.querySelector('#served')?.textContent ?? ''));
  const runtime = /runtime ([a-z]+-[a-z]+-\d)/.exec((await page.textContent('#served')) ?? '')![1];
  expect(runtime).toMatch(/^eu-/);
  await page.click('#tab-charts');

  // THEN the charts are the region that served the answer, its six with canvases, and no other region's
  await page.waitForSelector(`#charts .live-region[data-region="${runtime}"]`);
  expect(await chartedRegions(page)).toEqual([runtime]);
  expect(await page.inputValue('#chart-region')).toBe(runtime);
  await page.waitForFunction(() => document.querySelectorAll('#charts .live-region .chart canvas').length === 6);

  // WHEN another region is picked
  const other = playground.regions.map((region) => region.region).find((region) => region !== runtime)!;
  await page.selectOption('#chart-region', other);
  // THEN its charts replace those of the answer's region, and the link names it
  await page.waitForSelector(`#charts .live-region[data-region="${other}"]`);
  expect(await chartedRegions(page)).toEqual([other]);
  await page.waitForFunction(() => document.querySelectorAll('#charts .live-region .chart canvas').length === 6);
  expect(await viewsOf(page)).toEqual(only('charts', `#/charts/${other}`));

  // WHEN back: the answer's region again; forward: the pick
  await page.goBack();
  await page.waitForSelector(`#charts .live-region[data-region="${runtime}"]`);
  await page.goForward();
  await page.waitForSelector(`#charts .live-region[data-region="${other}"]`);
  // WHEN the chat is shown and then the charts by their tab, and the page reloaded: the pick stays
  await page.click('#tab-chat');
  await page.click('#tab-charts');
  await shown(page, 'charts');
  expect(await viewsOf(page)).toEqual(only('charts', `#/charts/${other}`));
  await page.reload();
  await page.waitForSelector(`#charts .live-region[data-region="${other}"] .chart canvas`);
  expect(await page.inputValue('#chart-region')).toBe(other);
  await page.close();
}, 60_000);

describe('a deployment of one region', () => {
  let single: Playground;
  const region = 'eu-central-1';

  beforeAll(async () => {
    single = await Playground.start({
      ...deployment,
      configs: deployment.configs.filter((config) => config.region === region),
      port: 0,
      tokenDelayMs: 5,
      defaultLocation: 'eu-central',
    });
  }, 60_000);

  afterAll(() => single?.close());

  test('every view draws its one region: the picker, the charts, the regions’ picture, the figures and the shared health', async () => {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await page.goto(`${single.url}/#/charts`);

    await page.waitForSelector(`#charts .live-region[data-region="${region}"] .chart canvas`);
    expect(await page.$$eval('#chart-region option', (options) => options.map((option) => option.getAttribute('value')))).toEqual([region]);
    // AND the caller starts where the playground puts callers that do not say (LOCAL_LOCATION), among the locations the front door routes
    expect(await page.inputValue('#location')).toBe('eu-central');
    expect(await page.$$eval('#location option', (options) => options.map((option) => option.textContent))).toEqual(CALLER_LOCATIONS);
    expect(await chartedRegions(page)).toEqual([region]);

    await page.click('#tab-regions');
    await page.waitForSelector(`#map rect[data-region="${region}"]`);
    expect(await page.$$eval('#map rect[data-region]', (boxes) => boxes.map((box) => box.getAttribute('data-region')))).toEqual([region]);
    expect(await page.$$eval('#figures tr', (rows) => rows.map((row) => row.getAttribute('data-region')))).toEqual([region]);
    expect(await page.$$eval('#fault-region option', (options) => options.map((option) => option.getAttribute('value')))).toContain(region);

    await page.click('#tab-health');
    await page.waitForSelector(`#shared-health [data-region="${region}"] table.shared-health`);
    expect(await page.$$eval('#shared-health [data-region]', (blocks) => blocks.map((block) => block.getAttribute('data-region')))).toEqual([region]);
    await page.close();
  }, 60_000);

  test('hidden views keep receiving: the charts and the dashboard shown after traffic draw what the page fetched while they were hidden', async () => {
    // GIVEN the page on the chat, its fetches of the live charts and the dashboard recorded
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    let trafficCounted = false;
    const received: Record<string, unknown> = {};
    const caughtUp = { charts: deferred(), dashboard: deferred() };
    // Once a fetch started after the traffic has answered, the next ones fail: what is drawn must be what arrived while hidden.
    for (const view of ['charts', 'dashboard'] as const) {
      await page.route(
        (url) => url.pathname === `/_local/${view}`,
        async (route) => {
          if (received[view]) return route.abort();
          const fetchedAfterTraffic = trafficCounted;
          const response = await route.fetch();
          const body: unknown = await response.json();
          // An older fetch answering after the recorded one must not replace it.
          if (received[view]) return route.abort();
          if (fetchedAfterTraffic) received[view] = body;
          await route.fulfill({ response, json: body });
          if (fetchedAfterTraffic) caughtUp[view].resolve();
        },
      );
    }
    await page.goto(`${single.url}/#/chat`);

    // WHEN a caller asks twice while the charts and the dashboard are hidden
    await page.selectOption('#location', 'eu-central');
    for (const text of ['first while hidden', 'second while hidden']) {
      await page.fill('#text', text);
      await page.click('button[type=submit]');
      await page.waitForFunction((sent) => document.querySelector('#transcript li[data-role="assistant"]:last-child')?.textContent?.includes(sent), text);
    }
    await waitForRequests(single, region, 2);
    trafficCounted = true;
    await Promise.all([caughtUp.charts.promise, caughtUp.dashboard.promise]);

    // THEN the charts, once shown, sum what was received for the region, the two answers among it
    const { regions } = received.charts as { regions: Array<{ region: string; charts: Array<{ series: Array<{ values: Array<number | null> }> }> }> };
    const requests = regions
      .find((one) => one.region === region)!
      .charts[0].series.flatMap((one) => one.values)
      .reduce<number>((sum, value) => sum + (value ?? 0), 0);
    expect(requests).toBeGreaterThanOrEqual(2);
    await page.click('#tab-charts');
    await page.waitForFunction(
      (total) => document.querySelector('#charts .live-region .summary')?.textContent?.startsWith(`${total} requests in the last 2 minutes`),
      requests,
    );
    expect(await page.$$eval('#charts .live-region .chart', (cells) => cells.map((cell) => cell.querySelector('canvas') !== null))).toEqual(
      Array(6).fill(true),
    );
    // AND the dashboard, once shown, draws every widget received
    const { widgets } = received.dashboard as { widgets: Array<{ type: string; hasData: boolean }> };
    await page.click('#tab-dashboard');
    await page.waitForFunction((count) => document.querySelectorAll('#dashboard .widget').length === count, widgets.length);
    expect(await page.$$eval('#dashboard .widget', (boxes) => boxes.map((box) => box.getAttribute('data-has-data')))).toEqual(
      widgets.map((widget) => String(widget.hasData)),
    );
    expect(await page.$$eval('#dashboard .widget:not(.text)', (boxes) => boxes.every((box) => box.querySelector('canvas') !== null))).toBe(true);
    await page.close();
  }, 60_000);
});

/** A promise and its resolve, for a route handler to say when something has happened. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Waits until the playground's own live charts count `count` requests for the region (its runtime's metric lines are read as they are written). */
async function waitForRequests(on: Playground, region: string, count: number): Promise<void> {
  const counted = () =>
    on.views
      .charts({ seconds: 120, periodSeconds: 5 })
      .find((one) => one.region === region)!
      .charts[0].series.flatMap((one) => one.values)
      .reduce<number>((sum, value) => sum + (value ?? 0), 0);
  while (counted() < count) await new Promise((resolve) => setTimeout(resolve, 20));
}

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
  await page.click('#tab-regions');
  await page.selectOption('#fault-region', 'us-east-1');
  await page.fill('#fault-times', '1');
  await page.click('#fault-mid-stream');
  await page.waitForFunction(() => (document.querySelector('#fault-status')?.textContent ?? '').includes('fails mid-stream after 3 tokens'));
  await page.click('#tab-chat');
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

  // Screenshots are test artefacts (git-ignored), for a person to look at.
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'playground-chat.png'), fullPage: true });

  // WHEN us-west-2 goes down from the page
  await page.click('#tab-regions');
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

  await page.screenshot({ path: path.join(ARTIFACTS, 'playground-regions.png'), fullPage: true });

  // THEN every region's live charts are drawn with data, one region at a time as it is picked
  await page.click('#tab-charts');
  for (const { region } of playground.regions) {
    await page.selectOption('#chart-region', region);
    await page.waitForFunction(
      (picked) => document.querySelectorAll(`#charts .live-region[data-region="${picked}"] [data-has-data="true"] canvas`).length === 6,
      region,
      { timeout: 20_000 },
    );
  }
  await page.screenshot({ path: path.join(ARTIFACTS, 'playground-charts.png'), fullPage: true });
  // AND each region's shared breakers, as its runtime reads them from the health table (the probes' recoveries at least)
  await page.click('#tab-health');
  await page.waitForFunction((count) => {
    const blocks = [...document.querySelectorAll('#shared-health [data-region]')];
    return blocks.length === count && blocks.every((block) => block.querySelectorAll('table.shared-health tr[data-state="closed"]').length > 0);
  }, playground.regions.length);
  await page.screenshot({ path: path.join(ARTIFACTS, 'playground-health.png'), fullPage: true });
  // AND every widget of the dashboard preview is drawn with data
  await page.click('#tab-dashboard');
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

  await page.screenshot({ path: path.join(ARTIFACTS, 'playground-dashboard.png'), fullPage: true });
}, 120_000);
