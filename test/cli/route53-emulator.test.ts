import {
  ChangeTagsForResourceCommand,
  GetHealthCheckStatusCommand,
  HealthCheckVersionMismatch,
  InvalidInput,
  ListHealthChecksCommand,
  ListTagsForResourcesCommand,
  NoSuchHealthCheck,
  paginateListHealthChecks,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { DEFAULT_CHECKER_REGIONS, Route53Emulator } from '../../local/route53-emulator';

// The emulator is checked with the real Route 53 client: if its XML did not
// match what the SDK's REST/XML deserializer expects, these reads would fail.
describe('Route 53 API emulator', () => {
  let emulator: Route53Emulator;
  let client: Route53Client;

  beforeEach(async () => {
    emulator = await Route53Emulator.start();
    client = new Route53Client({
      region: 'us-east-1',
      endpoint: emulator.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'secret' },
    });
  });

  afterEach(async () => {
    client.destroy();
    await emulator.close();
  });

  test('ListHealthChecks pages with Marker and MaxItems through the SDK paginator', async () => {
    // GIVEN
    const ids = Array.from({ length: 5 }, (_, index) => emulator.addHealthCheck({ fullyQualifiedDomainName: `r${index}.example.com` }));

    // WHEN
    const pages = [];
    for await (const page of paginateListHealthChecks({ client, pageSize: 2 }, {})) pages.push(page);

    // THEN
    expect(pages.map((page) => page.HealthChecks?.map((check) => check.Id))).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    expect(pages.map((page) => page.IsTruncated)).toEqual([true, true, false]);
    expect(pages[0].NextMarker).toBe(ids[2]);
  });

  test('a health check reads back with its configuration and version', async () => {
    // GIVEN
    const id = emulator.addHealthCheck({ fullyQualifiedDomainName: 'eu-west-1.agent.example.com', inverted: true, requestInterval: 10 });

    // WHEN
    const { HealthChecks } = await client.send(new ListHealthChecksCommand({}));

    // THEN
    expect(HealthChecks).toEqual([
      expect.objectContaining({
        Id: id,
        HealthCheckVersion: 1,
        HealthCheckConfig: expect.objectContaining({
          Type: 'HTTPS',
          FullyQualifiedDomainName: 'eu-west-1.agent.example.com',
          ResourcePath: '/health',
          Port: 443,
          RequestInterval: 10,
          Inverted: true,
          Disabled: false,
          Regions: [...DEFAULT_CHECKER_REGIONS],
        }),
      }),
    ]);
  });

  test('a calculated health check lists its children and threshold', async () => {
    // GIVEN
    const https = emulator.addHealthCheck();
    const alarm = emulator.addHealthCheck({ type: 'CLOUDWATCH_METRIC' });
    const calculated = emulator.addHealthCheck({ type: 'CALCULATED', childHealthChecks: [https, alarm] });

    // WHEN
    const { HealthChecks } = await client.send(new ListHealthChecksCommand({}));

    // THEN
    const config = HealthChecks?.find((check) => check.Id === calculated)?.HealthCheckConfig;
    expect(config).toMatchObject({ Type: 'CALCULATED', ChildHealthChecks: [https, alarm], HealthThreshold: 2 });
  });

  test('ListTagsForResources returns the tags of up to 10 health checks and refuses 11', async () => {
    // GIVEN
    const tagged = emulator.addHealthCheck({ tags: { team: 'ops', 'multi-region-agent:region': 'eu-west-1' } });
    const untagged = emulator.addHealthCheck();

    // WHEN
    const { ResourceTagSets } = await client.send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: [tagged, untagged] }));
    const tooMany = client.send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: Array.from({ length: 11 }, () => tagged) }));

    // THEN
    expect(ResourceTagSets).toEqual([
      {
        ResourceType: 'healthcheck',
        ResourceId: tagged,
        Tags: [
          { Key: 'team', Value: 'ops' },
          { Key: 'multi-region-agent:region', Value: 'eu-west-1' },
        ],
      },
      { ResourceType: 'healthcheck', ResourceId: untagged, Tags: [] },
    ]);
    await expect(tooMany).rejects.toBeInstanceOf(InvalidInput);
  });

  test('ChangeTagsForResource adds and removes tags', async () => {
    // GIVEN
    const id = emulator.addHealthCheck({ tags: { old: 'x', keep: 'y' } });

    // WHEN
    await client.send(
      new ChangeTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: id, AddTags: [{ Key: 'new', Value: 'z' }], RemoveTagKeys: ['old'] }),
    );

    // THEN
    expect(emulator.healthCheck(id).tags).toEqual({ keep: 'y', new: 'z' });
  });

  test('GetHealthCheckStatus reports one observation per checker with what it saw', async () => {
    // GIVEN
    const id = emulator.addHealthCheck({ endpoint: { healthyFrom: ['eu-west-1'] } });

    // WHEN
    const { HealthCheckObservations } = await client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));

    // THEN
    expect(HealthCheckObservations).toHaveLength(DEFAULT_CHECKER_REGIONS.length * 2);
    const eu = HealthCheckObservations?.filter((observation) => observation.Region === 'eu-west-1');
    expect(eu?.map((observation) => observation.StatusReport?.Status)).toEqual(['Success: HTTP Status Code 200, OK', 'Success: HTTP Status Code 200, OK']);
    const others = HealthCheckObservations?.filter((observation) => observation.Region !== 'eu-west-1');
    expect(others?.every((observation) => observation.StatusReport?.Status?.startsWith('Failure:'))).toBe(true);
    expect(HealthCheckObservations?.[0].StatusReport?.CheckedTime).toBeInstanceOf(Date);
    expect(new Set(HealthCheckObservations?.map((observation) => observation.IPAddress)).size).toBe(HealthCheckObservations?.length);
  });

  test('checkers report a changed endpoint only after their next round', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();
    emulator.setEndpoint(id, 'failing');
    const before = await client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));

    // WHEN
    emulator.runCheckers();
    const after = await client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));

    // THEN
    expect(before.HealthCheckObservations?.every((observation) => observation.StatusReport?.Status?.startsWith('Success'))).toBe(true);
    expect(after.HealthCheckObservations?.every((observation) => observation.StatusReport?.Status?.startsWith('Failure'))).toBe(true);
  });

  test('checkers of the given regions report on their own, the others keep their last observation', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();
    const [before] = emulator.healthCheck(id).observations;

    // WHEN
    emulator.runCheckers(['eu-west-1']);

    // THEN
    const after = emulator.healthCheck(id).observations;
    const fresh = after.filter((observation) => observation.checkedTime > before.checkedTime);
    expect(fresh.map((observation) => observation.region)).toEqual(['eu-west-1', 'eu-west-1']);
    expect(after).toHaveLength(DEFAULT_CHECKER_REGIONS.length * 2);
  });

  test('GetHealthCheckStatus is refused for a calculated health check', async () => {
    // GIVEN
    const calculated = emulator.addHealthCheck({ type: 'CALCULATED', childHealthChecks: [emulator.addHealthCheck()] });

    // WHEN
    const status = client.send(new GetHealthCheckStatusCommand({ HealthCheckId: calculated }));

    // THEN
    await expect(status).rejects.toBeInstanceOf(InvalidInput);
  });

  test('UpdateHealthCheck applies Inverted and Disabled and bumps the version', async () => {
    // GIVEN
    const id = emulator.addHealthCheck({ disabled: true });

    // WHEN
    const { HealthCheck } = await client.send(new UpdateHealthCheckCommand({ HealthCheckId: id, HealthCheckVersion: 1, Inverted: true, Disabled: false }));

    // THEN
    expect(HealthCheck).toMatchObject({ Id: id, HealthCheckVersion: 2, HealthCheckConfig: { Inverted: true, Disabled: false } });
    expect(emulator.healthCheck(id)).toMatchObject({ version: 2, inverted: true, disabled: false });
  });

  test('UpdateHealthCheck with a stale HealthCheckVersion fails with 409 and changes nothing', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();
    emulator.editHealthCheck(id, { disabled: true });

    // WHEN
    const update = client.send(new UpdateHealthCheckCommand({ HealthCheckId: id, HealthCheckVersion: 1, Inverted: true }));

    // THEN
    await expect(update).rejects.toBeInstanceOf(HealthCheckVersionMismatch);
    await expect(update).rejects.toMatchObject({ $metadata: { httpStatusCode: 409 } });
    expect(emulator.healthCheck(id)).toMatchObject({ version: 2, inverted: false });
  });

  test('UpdateHealthCheck refuses fields the emulator does not model instead of ignoring them', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();

    // WHEN
    const update = client.send(new UpdateHealthCheckCommand({ HealthCheckId: id, FailureThreshold: 5 }));

    // THEN
    await expect(update).rejects.toThrow('The emulator does not update FailureThreshold');
    expect(emulator.healthCheck(id).version).toBe(1);
  });

  test('an unknown health check is NoSuchHealthCheck (404)', async () => {
    // WHEN
    const status = client.send(new GetHealthCheckStatusCommand({ HealthCheckId: 'does-not-exist' }));

    // THEN
    await expect(status).rejects.toBeInstanceOf(NoSuchHealthCheck);
    await expect(status).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  test('an injected Throttling fault answers 400 with code Throttling, then the next request succeeds', async () => {
    // GIVEN
    emulator.injectFault({ operation: 'ListHealthChecks', error: 'Throttling' });

    // WHEN
    const first = client.send(new ListHealthChecksCommand({}));

    // THEN
    await expect(first).rejects.toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    await expect(client.send(new ListHealthChecksCommand({}))).resolves.toMatchObject({ HealthChecks: [] });
    expect(emulator.callsTo('ListHealthChecks').map((call) => call.status)).toEqual([400, 200]);
  });

  test('injected faults only hit their operation and count down', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();
    emulator.injectFault({ operation: 'GetHealthCheckStatus', error: 503, times: 2 });
    emulator.injectFault({ operation: 'UpdateHealthCheck', error: 'PriorRequestNotComplete' });

    // WHEN
    const list = await client.send(new ListHealthChecksCommand({}));
    const statuses = await Promise.allSettled([1, 2, 3].map(() => client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }))));
    const update = client.send(new UpdateHealthCheckCommand({ HealthCheckId: id, Inverted: true }));

    // THEN
    expect(list.HealthChecks).toHaveLength(1);
    expect(statuses.map((result) => result.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(statuses[0]).toMatchObject({ reason: { name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } } });
    await expect(update).rejects.toMatchObject({ name: 'PriorRequestNotComplete' });
    expect(emulator.healthCheck(id).inverted).toBe(false);
  });

  test('a fault after applying makes the change, then answers the error instead of the result', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();
    emulator.injectFault({ operation: 'UpdateHealthCheck', error: 503, afterApplying: true });

    // WHEN
    const update = client.send(new UpdateHealthCheckCommand({ HealthCheckId: id, HealthCheckVersion: 1, Inverted: true }));

    // THEN
    await expect(update).rejects.toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect(emulator.healthCheck(id)).toMatchObject({ version: 2, inverted: true });
  });

  test('calls are recorded with their operation, health check, body and signing region', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();

    // WHEN
    await client.send(new UpdateHealthCheckCommand({ HealthCheckId: id, HealthCheckVersion: 1, Inverted: true }));

    // THEN
    expect(emulator.calls).toEqual([
      {
        operation: 'UpdateHealthCheck',
        method: 'POST',
        path: `/2013-04-01/healthcheck/${id}`,
        healthCheckId: id,
        body: { HealthCheckVersion: '1', Inverted: 'true' },
        status: 200,
        signingRegion: 'us-east-1',
      },
    ]);
  });

  test('an unsigned request is refused', async () => {
    // WHEN
    const response = await fetch(`${emulator.endpoint}/2013-04-01/healthcheck`);

    // THEN
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });

  test('beforeNext runs an edit just before the next matching request', async () => {
    // GIVEN
    const id = emulator.addHealthCheck();
    emulator.beforeNext('UpdateHealthCheck', () => emulator.editHealthCheck(id, { inverted: true }));

    // WHEN
    const update = client.send(new UpdateHealthCheckCommand({ HealthCheckId: id, HealthCheckVersion: 1, Inverted: true }));

    // THEN
    await expect(update).rejects.toBeInstanceOf(HealthCheckVersionMismatch);
    expect(emulator.healthCheck(id)).toMatchObject({ version: 2, inverted: true });
  });
});
