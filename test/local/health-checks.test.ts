/**
 * The playground's Route 53 health checks follow the synthesized ones: the
 * interval (scaled by timeScale) and the failure threshold, and they say how
 * long a region's failure took to move traffic.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Datum } from '../../local/cloudwatch/metric-store';
import { HealthChecks } from '../../local/health-checks';

let server: http.Server;
let up = true;

beforeAll(async () => {
  server = http.createServer((_request, response) => response.writeHead(up ? 200 : 503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

test('a region turns unhealthy after the synthesized failure threshold, and the report says its failure moved traffic after interval × threshold + TTL', async () => {
  // GIVEN Route 53's checks every 10 s, 3 failures, a 60 s TTL, run 12 times faster, on a clock the test moves
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const published: Datum[] = [];
  let now = 1_000_000;
  const checks = new HealthChecks(
    () => [{ region: 'eu-west-1', url }],
    (datum) => published.push(datum),
    { intervalSeconds: 10, failureThreshold: 3, ttlSeconds: 60 },
    12,
    () => now,
  );
  const check = async () => {
    await checks.checkAll();
    now += 10_000 / 12;
  };
  up = true;
  await check();

  // WHEN the region goes down, for two checks and then a third
  up = false;
  await check();
  await check();
  const beforeThreshold = checks.report();
  await check();

  // THEN two failures leave it in DNS, the third takes it out (as the published HealthCheckStatus says)
  expect(beforeThreshold.regions).toEqual([{ region: 'eu-west-1', healthy: true, failuresInARow: 2 }]);
  expect(beforeThreshold.lastFailover).toBeUndefined();
  expect(published.map((datum) => datum.value)).toEqual([1, 1, 1, 0]);
  const report = checks.report();
  expect(report.regions).toEqual([{ region: 'eu-west-1', healthy: false, failuresInARow: 3 }]);
  expect(report.lastFailover).toMatchObject({ region: 'eu-west-1', checksSeconds: 30, trafficMovedSeconds: 90 });

  // AND it takes as many good checks to come back
  up = true;
  await check();
  await check();
  expect(checks.report().regions[0].healthy).toBe(false);
  await check();
  expect(checks.report().regions[0].healthy).toBe(true);
});
