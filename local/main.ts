/**
 * `npm run local`: the example deployment's regions on this machine, no AWS
 * account needed. Environment: PORT (front door, default 8787),
 * LOCAL_FIRST_TOKEN_MS (default 300), LOCAL_TOKEN_MS (default 30),
 * LOCAL_LOCATION (default caller location, `us`), LOCAL_TIME_SCALE (the
 * dashboard preview's time compression, default 12: a 60 s period in 5 s),
 * LOCAL_VERBOSE=1 to print the runtimes' JSON logs and metric records,
 * LOCAL_SIGV4=1 to refuse agent requests not signed with SigV4 by the
 * playground's key (printed), as API Gateway's IAM authorization does.
 */
import { renderTable } from '../cli/agentctl/output';
import { exampleRegions } from './example-regions';
import { Playground } from './playground';
import { LOCAL_SIGNING_KEY } from './sigv4-verifier';

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const example = exampleRegions();
  const playground = await Playground.start({
    ...example,
    port: Number(process.env.PORT ?? 8787),
    defaultLocation: process.env.LOCAL_LOCATION ?? 'us',
    firstTokenDelayMs: Number(process.env.LOCAL_FIRST_TOKEN_MS ?? 300),
    tokenDelayMs: Number(process.env.LOCAL_TOKEN_MS ?? 30),
    echoRuntimeOutput: process.env.LOCAL_VERBOSE === '1',
    timeScale: Number(process.env.LOCAL_TIME_SCALE ?? 12),
    signingKey: process.env.LOCAL_SIGV4 === '1' ? LOCAL_SIGNING_KEY : undefined,
  });
  // Synthesize the dashboard now rather than on the page's first request, which would pause the runtimes for it.
  playground.views.synthesized();
  process.stdout.write(
    [
      '',
      `Multi-region agent playground: front door ${playground.url} (web page at ${playground.url}/, with the dashboard preview)`,
      '',
      renderTable(
        ['REGION', 'JURISDICTION', 'AGENT API', 'BEDROCK (EMULATED)'],
        playground.regions.map((region) => [region.region, region.jurisdiction, region.server.url, region.bedrockEndpoint]),
      ),
      '',
      'Try (the first call mints a conversation id such as us.Rr6XzBvT-RFGCWPL3MLtJA):',
      `  curl -X POST ${playground.url}/v1/conversations`,
      `  curl -N -X POST ${playground.url}/v1/conversations/<id>/messages -H 'content-type: application/json' -d '{"text":"hello"}'`,
      `  curl -X POST ${playground.url}/_local/faults -d '{"region":"us-east-1","fault":{"status":503}}'`,
      '',
      `Names (the typed client's endpoints, GET ${playground.url}/_local/endpoints): ${Object.entries(playground.frontDoor.endpoints())
        .map(
          ([jurisdiction, names]) =>
            `${jurisdiction} ${names.url} (${Object.entries(names.regions)
              .map(([region, url]) => `${region} ${url}`)
              .join(', ')})`,
        )
        .join('; ')}`,
      process.env.LOCAL_SIGV4 === '1'
        ? `SigV4 required: sign for service execute-api with access key ${LOCAL_SIGNING_KEY.accessKeyId}, secret ${LOCAL_SIGNING_KEY.secretAccessKey}.`
        : 'Unsigned requests pass (LOCAL_SIGV4=1 checks SigV4 signatures as API Gateway does).',
      '',
      `Outside provider (us only): OpenAI gpt-4o with US residency, emulated at ${playground.providers.openai.baseUrl('us')}, its key in Secrets Manager (emulated at ${playground.providers.secrets.endpoint}).`,
      'Fail both US regions (us-east-1 and us-west-2, as above) and a US caller gets x-agent-path: provider-fallback, x-agent-provider: openai:us.',
      ...example.providerRefusals.map((refusal) => `The EU chain may not have it: ${refusal}`),
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await playground.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
