/// <reference lib="dom" />
/**
 * The playground's web page in headless Chromium (Debian's, driven by
 * playwright-core): a streamed answer with its path, then an injected fault
 * showing up as a counted fallback.
 */
import { chromium, type Browser } from 'playwright-core';
import { exampleRegions } from '../../local/example-regions';
import { Playground } from '../../local/playground';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let playground: Playground;
let browser: Browser;

beforeAll(async () => {
  playground = await Playground.start({ ...exampleRegions(), port: 0, tokenDelayMs: 5 });
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
}, 60_000);

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
    return cells[3] === '1' && Number(cells[5]) > 0;
  });
  const row = await page.$$eval('tr[data-region="us-east-1"] td', (cells) => cells.map((cell) => cell.textContent));
  expect(row.slice(0, 6)).toEqual(['us-east-1', '2', '1', '1', '0', '50']);
}, 60_000);
