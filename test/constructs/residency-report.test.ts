import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { createExampleApp } from '../../bin/app';
import { BedrockModel, Jurisdiction, ModelChain, MultiRegionAgent, ResidencyReport, type JurisdictionResidency } from '../../lib';
import { ACCOUNT, agentApp, chain, flatten, RECORD, ZONE } from './fixtures';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Every statement of every IAM policy (inline or attached) of a stack's roles. */
function statementsOf(template: Template): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((policy) => policy.Properties.PolicyDocument);
  const inline = Object.values(template.findResources('AWS::IAM::Role')).flatMap((role) =>
    (role.Properties.Policies ?? []).map((policy: { PolicyDocument: unknown }) => policy.PolicyDocument),
  );
  return [...policies, ...inline].flatMap((document: { Statement: Statement[] }) => document.Statement);
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
const resourcesOf = (statement: Statement) => [statement.Resource].flat();

/** What the synthesized IAM policies of a region stack let its runtime reach. */
function grantsIn(stack: Stack): { modelRegions: string[]; profiles: string[]; toolRegions: string[] } {
  const template = Template.fromStack(stack);
  const statements = statementsOf(template);
  const arns = statements
    .filter((statement) => actionsOf(statement).includes('bedrock:InvokeModel'))
    .flatMap((statement) => resourcesOf(statement).map(flatten));
  const modelRegions = arns.flatMap((arn) => arn.match(/:bedrock:([a-z0-9-]*)::foundation-model\//)?.[1] ?? []).map((region) => region || '*');
  const profiles = arns.flatMap((arn) => {
    const match = arn.match(/:bedrock:([a-z0-9-]+):\d+:inference-profile\/(.+)$/);
    return match ? [`${match[2]}@${match[1]}`] : [];
  });
  const functions = template.findResources('AWS::Lambda::Function');
  // The scheduler invokes the target probe, which processes no prompt of a user's: not a tool.
  const isProbe = (id: string) => String(functions[id]?.Properties.Description).includes('target probe');
  const toolIds = statements
    .filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'))
    .flatMap((statement) => resourcesOf(statement).map((resource) => (resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]))
    .filter((id) => !isProbe(id));
  // A granted tool function is defined in this stack, so it runs in the stack's region.
  for (const id of toolIds) expect(functions[id]).toBeDefined();
  return { modelRegions, profiles, toolRegions: toolIds.map(() => stack.region) };
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** Holds a jurisdiction's report against the synthesized policies, table replicas and DNS records. */
function expectReportMatchesTemplates(agent: MultiRegionAgent, part: JurisdictionResidency): void {
  const jurisdiction = agent.jurisdictions.find((candidate) => candidate.name === part.name)!;
  const grants = jurisdiction.regions.map((region) => grantsIn(agent.regionStacks[region]));
  // Processing: exactly the runtimes' regions and every region their IAM policies let Bedrock and tools run in.
  const granted = sorted([...jurisdiction.regions, ...grants.flatMap((grant) => [...grant.modelRegions, ...grant.toolRegions])]);
  const profileRegions = grants.flatMap((grant) => grant.profiles.map((profile) => profile.split('@')[1]));
  expect(part.processing.regions).toEqual(sorted([...granted, ...profileRegions]));
  expect(sorted(part.processing.models.flatMap((model) => model.destinationRegions))).toEqual(sorted(grants.flatMap((grant) => grant.modelRegions)));
  expect(
    sorted(
      part.processing.models.filter((model) => model.profile).flatMap((model) => model.endpointRegions.map((region) => `${model.invocationId}@${region}`)),
    ),
  ).toEqual(sorted(grants.flatMap((grant) => grant.profiles)));
  expect(sorted(part.processing.tools.map((tool) => tool.region))).toEqual(sorted(grants.flatMap((grant) => grant.toolRegions)));
  // Storage: the global table's replicas, each with point-in-time recovery.
  const table = Object.values(Template.fromStack(agent.homeStacks[part.name]).findResources('AWS::DynamoDB::GlobalTable'))[0];
  const replicas = table.Properties.Replicas as Array<{ Region: string; PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: boolean } }>;
  expect(sorted(part.storage.replicas.map((replica) => replica.region))).toEqual(sorted(replicas.map((replica) => replica.Region)));
  for (const replica of replicas) expect(replica.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
  // Names: each host name has records in the stacks of exactly the regions it lists, among the jurisdiction's.
  for (const host of part.routing.hostNames) {
    const withRecord = jurisdiction.regions.filter((region) =>
      Object.values(Template.fromStack(agent.regionStacks[region]).findResources('AWS::Route53::RecordSet')).some((record) =>
        [host.name, `${part.name}.latency.${host.name}`, `latency.${host.name}`].includes(record.Properties.Name.replace(/\.$/, '')),
      ),
    );
    expect({ name: host.name, regions: sorted(withRecord) }).toEqual({ name: host.name, regions: sorted(host.regions) });
  }
  // Geolocations: the public name's geolocation records that send users to this jurisdiction.
  const geoRecords = Object.values(Template.fromStack(agent.monitoringStack).findResources('AWS::Route53::RecordSet')).filter((record) =>
    String(record.Properties.SetIdentifier).startsWith(`${part.name}-`),
  );
  expect(sorted(geoRecords.map((record) => String(record.Properties.SetIdentifier).slice(part.name.length + 1)))).toEqual(sorted(part.routing.geolocations));
}

describe("the example app's residency report", () => {
  // One example app for the block: every test only reads it, so it is built and synthesized once.
  let exampleApp: ReturnType<typeof createExampleApp> | undefined;
  const example = () => (exampleApp ??= createExampleApp({ context: { 'aws:cdk:bundling-stacks': [] } }));

  test("lists where the EU's prompts may be processed: its runtimes, the eu. profiles' destinations (London and Zurich included) and its tool functions", () => {
    // GIVEN / WHEN
    const eu = example()
      .agent.residencyReport()
      .jurisdictions.find((part) => part.name === 'eu')!;

    // THEN
    expect(eu.processing.regions).toEqual(['eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3']);
    expect(eu.processing.runtimes).toEqual(['eu-west-1', 'eu-central-1']);
    expect(eu.processing.models.map((model) => `${model.invocationId} from ${model.endpointRegions.join('+')} (${model.tiers.join(', ')})`)).toEqual([
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0 from eu-central-1+eu-west-1 (primary, regional-fallback)',
      'eu.amazon.nova-pro-v1:0 from eu-central-1+eu-west-1 (model-fallback)',
    ]);
    expect(eu.processing.tools).toEqual([
      { name: 'lookup_order', region: 'eu-west-1', calledFrom: 'eu-west-1', function: 'support-agent-eu-west-1/Tools/LookupOrder' },
      { name: 'lookup_order', region: 'eu-central-1', calledFrom: 'eu-central-1', function: 'support-agent-eu-central-1/Tools/LookupOrder' },
    ]);
    expect(eu.processing.providers).toEqual([]);
  });

  test('lists where the EU stores conversations (replicas with their backups) and which names and geolocations send users to it', () => {
    // GIVEN / WHEN
    const eu = example()
      .agent.residencyReport()
      .jurisdictions.find((part) => part.name === 'eu')!;

    // THEN
    expect(eu.storage).toEqual({
      table: 'support-agent-conversations-eu',
      replicas: [
        { region: 'eu-west-1', home: true, pointInTimeRecovery: true },
        { region: 'eu-central-1', home: false, pointInTimeRecovery: true },
      ],
      erasure: { ownerIndex: 'by-owner', regions: ['eu-west-1', 'eu-central-1'], pointInTimeRecoveryDays: 35, tombstoneHours: 24 },
    });
    expect(eu.routing.geolocations).toEqual(['continent-EU']);
    expect(eu.routing.hostNames.map((host) => `${host.name}: ${host.regions.join(', ')}`)).toEqual([
      'eu.agent.example.com: eu-west-1, eu-central-1',
      'eu-west-1.agent.example.com: eu-west-1',
      'eu-central-1.agent.example.com: eu-central-1',
      'agent.example.com: eu-west-1, eu-central-1',
    ]);
  });

  test('agrees with the synthesized IAM policies, table replicas and DNS records of every jurisdiction', () => {
    // GIVEN
    const { agent } = example();

    // WHEN
    const report = agent.residencyReport();

    // THEN
    expect(report.jurisdictions.map((part) => part.name)).toEqual(['us', 'eu']);
    for (const part of report.jurisdictions) expectReportMatchesTemplates(agent, part);
  });

  test('is written at synthesis as JSON and Markdown into the cloud assembly', () => {
    // GIVEN
    const { app, agent } = example();

    // WHEN
    const assembly = app.synth();

    // THEN
    const files = ResidencyReport.fileNames('support-agent');
    expect(files).toEqual({ json: 'support-agent.residency.json', markdown: 'support-agent.residency.md' });
    expect(JSON.parse(fs.readFileSync(path.join(assembly.directory, files.json), 'utf8'))).toEqual(agent.residencyReport());
    const markdown = fs.readFileSync(path.join(assembly.directory, files.markdown), 'utf8');
    expect(markdown).toContain('## eu');
    expect(markdown).toContain(
      '**Processed in:** `eu-central-1`, `eu-central-2`, `eu-north-1`, `eu-south-1`, `eu-south-2`, `eu-west-1`, `eu-west-2`, `eu-west-3`',
    );
    expect(markdown).toContain('| profile `eu.anthropic.claude-sonnet-4-5-20250929-v1:0` (primary, regional-fallback) | `eu-central-1`, `eu-west-1` |');
    expect(markdown).toContain('**Users sent here:** located in continent-EU, by the public name.');
    expect(markdown).toContain('the deletions replicate to `eu-west-1`, `eu-central-1`, and the owner index `by-owner` (part of the table) follows in each.');
    expect(markdown).toContain('Point-in-time recovery can restore deleted items for 35 days');
  });
});

describe('a three-jurisdiction agent', () => {
  const threeJurisdictions = () =>
    agentApp({
      jurisdictions: [
        Jurisdiction.us(['us-east-1', 'us-west-2']),
        Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-west-3'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
        Jurisdiction.apac(['ap-northeast-1', 'ap-southeast-2'], {
          geolocations: [route53.GeoLocation.country('JP'), route53.GeoLocation.country('AU')],
        }),
      ],
    }).agent;

  test("each jurisdiction's report agrees with its IAM policies, replicas and records", () => {
    // GIVEN / WHEN
    const agent = threeJurisdictions();
    const report = agent.residencyReport();

    // THEN
    expect(report.jurisdictions.map((part) => part.name)).toEqual(['us', 'eu', 'apac']);
    for (const part of report.jurisdictions) expectReportMatchesTemplates(agent, part);
  });

  test("no jurisdiction's processing, storage or names reach another's regions", () => {
    // GIVEN / WHEN
    const report = threeJurisdictions().residencyReport();

    // THEN
    const apac = report.jurisdictions.find((part) => part.name === 'apac')!;
    expect(apac.processing.regions).toEqual(expect.arrayContaining(['ap-northeast-1', 'ap-southeast-2', 'me-central-1']));
    expect(apac.storage.replicas.map((replica) => replica.region)).toEqual(['ap-northeast-1', 'ap-southeast-2']);
    expect(apac.routing.geolocations).toEqual(['JP', 'AU']);
    for (const part of report.jurisdictions) {
      const prefixes = { us: /^us-/, eu: /^eu-/, apac: /^(ap-|me-central-1)/ }[part.name as 'us' | 'eu' | 'apac'];
      for (const region of [...part.processing.regions, ...part.storage.replicas.map((replica) => replica.region)]) expect(region).toMatch(prefixes);
    }
  });
});

test("a strict jurisdiction's report names its allowed regions, and its processing stays inside them", () => {
  // GIVEN
  const model = BedrockModel.of('amazon.nova-pro-v1:0', {
    inferenceGeographies: ['eu'],
    destinationRegions: { eu: ['eu-west-1', 'eu-central-1', 'eu-north-1'] },
  });
  const allowed = ['eu-central-1', 'eu-north-1', 'eu-west-1'];

  // WHEN
  const { agent } = agentApp({ jurisdictions: [Jurisdiction.eu(['eu-west-1', 'eu-central-1'], { processingRegions: allowed })], chain: ModelChain.of(model) });

  // THEN
  const [eu] = agent.residencyReport().jurisdictions;
  expect(eu.allowedProcessingRegions).toEqual(allowed);
  expect(eu.processing.regions).toEqual(allowed);
  expectReportMatchesTemplates(agent, eu);
});

test("inside a Stage, the report is written into the Stage's own assembly", () => {
  // GIVEN
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stage = new Stage(app, 'Prod');
  new MultiRegionAgent(stage, 'agent', {
    account: ACCOUNT,
    hostedZone: ZONE,
    recordName: RECORD,
    jurisdictions: [Jurisdiction.us(['us-east-1'])],
    chain: chain(),
  });

  // WHEN
  const assembly = stage.synth();

  // THEN
  expect(JSON.parse(fs.readFileSync(path.join(assembly.directory, 'agent.residency.json'), 'utf8')).jurisdictions[0].processing.runtimes).toEqual([
    'us-east-1',
  ]);
});
