import * as fs from 'node:fs';
import * as path from 'node:path';
import { attachCustomSynthesis, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { InferenceGeography, ProviderResidency, Tier } from '../../lambda/agent/config';
import { geoLabel, layeredRecordName, type PublicNameRouting } from '../routing/agent-routing';
import type { AgentRuntime } from '../runtime/agent-runtime';
import { TableSchema } from '../../lambda/agent/table-schema';
import { ConversationTable } from '../state/conversation-table';
import type { Jurisdiction } from './jurisdiction';
import type { ResolvedProviderTarget } from '../chain/model-chain';

const TOMBSTONE_HOURS = TableSchema.tombstoneSeconds / 3600;

/** The document of the residency report: where each jurisdiction's data may be processed and stored, and who is routed to it. */
export interface ResidencyReportDocument {
  /** The agent's name. */
  readonly agent: string;
  /** The agent's public name. */
  readonly recordName: string;
  /** Each jurisdiction's part. */
  readonly jurisdictions: readonly JurisdictionResidency[];
}

/** One jurisdiction's part of the residency report. */
export interface JurisdictionResidency {
  /** The jurisdiction's name. */
  readonly name: string;
  /** The inference profile geography of its models. */
  readonly geography: InferenceGeography;
  /** True when a request's data never leaves its geography. */
  readonly restricted: boolean;
  /** The region of its conversation table's home replica. */
  readonly homeRegion: string;
  /** `processingRegions` of a strictly restricted jurisdiction; absent when the geography is the limit. */
  readonly allowedProcessingRegions?: readonly string[];
  /** Where its prompts, answers and tool inputs may be processed. */
  readonly processing: ResidencyProcessing;
  /** Where its conversations are stored, and what erasure removes. */
  readonly storage: ResidencyStorage;
  /** Which DNS names and locations send users to it. */
  readonly routing: ResidencyRouting;
}

/** Where a jurisdiction's prompts, answers and tool inputs may be processed. */
export interface ResidencyProcessing {
  /** Every region below, once, sorted ('*' for a global profile's "any region"). */
  readonly regions: readonly string[];
  /** Regions of the runtimes, which receive every message. */
  readonly runtimes: readonly string[];
  /** Each Bedrock model id or inference profile the runtimes may call. */
  readonly models: readonly ResidencyModel[];
  /** Tools that are Lambda functions, each with the region it runs in (tools of the agent's code run in the runtime). */
  readonly tools: readonly ResidencyTool[];
  /** Chain targets outside Bedrock, each with where the provider processes data. */
  readonly providers: readonly ResidencyProvider[];
  /** MCP servers whose tools the runtimes call, each with where it declares it processes. */
  readonly mcpServers: readonly ResidencyMcpServer[];
}

/** An MCP server whose tools a runtime calls. */
export interface ResidencyMcpServer {
  /** What logs and metrics call the server. */
  readonly name: string;
  /** Its URL ('(deployment)' when known at deployment only). */
  readonly url: string;
  /** The region it declares it processes in, or absent when it declares a geography. */
  readonly region?: string;
  /** The geography it declares, when not one region. */
  readonly residency?: string;
  /** The runtime region that calls it. */
  readonly calledFrom: string;
}

/** A Bedrock model as a jurisdiction's runtimes call it. */
export interface ResidencyModel {
  /** What ConverseStream is called with: an inference profile id or the foundation model id. */
  readonly invocationId: string;
  /** The foundation model id. */
  readonly modelId: string;
  /** The profile's geography; absent for an in-region call. */
  readonly profile?: InferenceGeography;
  /** Regions whose Bedrock endpoint is called with it. */
  readonly endpointRegions: readonly string[];
  /** Regions where Bedrock may run the model for these calls (the profile's destinations, or the endpoint's region). */
  readonly destinationRegions: readonly string[];
  /** The chain tiers it serves. */
  readonly tiers: readonly Tier[];
}

/** A tool that is a Lambda function. */
export interface ResidencyTool {
  /** The tool's name. */
  readonly name: string;
  /** The region the function runs in. */
  readonly region: string;
  /** The runtime region that invokes it. */
  readonly calledFrom: string;
  /** The function's construct path (its ARN is known at deployment only). */
  readonly function: string;
}

/** A chain target outside Bedrock. */
export interface ResidencyProvider {
  /** `openai` or `anthropic`. */
  readonly name: string;
  /** The model name called. */
  readonly model: string;
  /** The provider's residency option: `us`, `eu` or `global` (anywhere). */
  readonly residency: ProviderResidency;
  /** The host called and what its residency option says about where inference runs. */
  readonly processing: string;
  /** The runtime regions that call it. */
  readonly calledFrom: readonly string[];
}

/** Where a jurisdiction's conversations are stored. */
export interface ResidencyStorage {
  /** The table's name. */
  readonly table: string;
  /** Each replica of the global table; point-in-time recovery keeps its backups in the replica's own region. */
  readonly replicas: ReadonlyArray<{ readonly region: string; readonly home: boolean; readonly pointInTimeRecovery: boolean }>;
  /** The witness of a two-region strongly consistent table: replication metadata, no items. */
  readonly witnessRegion?: string;
  /** What erasing an owner's conversations removes, where, and what stays. */
  readonly erasure: ResidencyErasure;
}

/** What erasing an owner's conversations (`DELETE /v1/conversations`, or one conversation) removes, where, and what stays. */
export interface ResidencyErasure {
  /** The owner index, a secondary index of the same table: it exists in every replica, and entries go with their items. */
  readonly ownerIndex: string;
  /** Regions whose replicas the deletions reach (the home region's writes, replicated). */
  readonly regions: readonly string[];
  /** How long point-in-time recovery can still restore a deleted item, in each replica's region. */
  readonly pointInTimeRecoveryDays: number;
  /** How long the deleted conversation's tombstone (ids, counters and times; no text) is kept before its TTL. */
  readonly tombstoneHours: number;
}

/** Which DNS names and geolocations send users to a jurisdiction. */
export interface ResidencyRouting {
  /** The DNS names that answer from the jurisdiction's regions. */
  readonly hostNames: readonly ResidencyHostName[];
  /** Locations (geoLabel: `continent-EU`, `DE`, `default`) whose users the public name sends to this jurisdiction's regions. */
  readonly geolocations: readonly string[];
}

/** A DNS name that answers from some of a jurisdiction's regions. */
export interface ResidencyHostName {
  /** The DNS name. */
  readonly name: string;
  /** The jurisdiction's regions it may answer from. */
  readonly regions: readonly string[];
  /** How it picks one. */
  readonly routing: string;
}

/** Properties of a {@link ResidencyReport}: what the report is derived from. */
export interface ResidencyReportProps {
  /** Names the files: `<agentName>.residency.json` and `.md`. */
  readonly agentName: string;
  /** The agent's public name. */
  readonly recordName: string;
  /** Every jurisdiction of the agent. */
  readonly jurisdictions: readonly Jurisdiction[];
  /** Every region's runtime: their chain targets and Lambda tools are what their IAM grants are made of. */
  readonly runtimes: readonly AgentRuntime[];
  /** The conversation table of each jurisdiction, by name. */
  readonly tables: Readonly<Record<string, ConversationTable>>;
  /** How the public name reaches each region (what each region's `AgentRouting` was given). */
  readonly publicNames: Readonly<Record<string, PublicNameRouting>>;
}

/**
 * The residency report, written into the cloud assembly at synthesis
 * (`cdk.out/<agent>.residency.json` and a Markdown rendering beside it).
 * It is derived from the data the constructs grant and create with: each
 * runtime's resolved chain targets (its Bedrock grant), its Lambda tools
 * (its invoke grant), each table's replica regions and the records' names,
 * so it cannot say something other than what is deployed.
 */
export class ResidencyReport extends Construct {
  /** The files' names in the assembly directory. */
  static fileNames(agentName: string): { json: string; markdown: string } {
    return { json: `${agentName}.residency.json`, markdown: `${agentName}.residency.md` };
  }

  private readonly props: ResidencyReportProps;

  constructor(scope: Construct, id: string, props: ResidencyReportProps) {
    super(scope, id);
    this.props = props;
    // Custom synthesis is how a construct library adds files to the cloud assembly (the Stage's directory).
    attachCustomSynthesis(this, {
      onSynthesize: (session) => {
        const files = ResidencyReport.fileNames(props.agentName);
        const report = this.document();
        fs.writeFileSync(path.join(session.outdir, files.json), `${JSON.stringify(report, null, 2)}\n`);
        fs.writeFileSync(path.join(session.outdir, files.markdown), renderResidencyMarkdown(report));
      },
    });
  }

  /** The report, as the files hold it. */
  document(): ResidencyReportDocument {
    const { agentName, recordName, jurisdictions } = this.props;
    return { agent: agentName, recordName, jurisdictions: jurisdictions.map((jurisdiction) => this.jurisdictionPart(jurisdiction)) };
  }

  private jurisdictionPart(jurisdiction: Jurisdiction): JurisdictionResidency {
    const runtimes = this.props.runtimes.filter((runtime) => runtime.jurisdiction.name === jurisdiction.name);
    const models = modelsOf(runtimes);
    const tools = runtimes.flatMap((runtime) =>
      runtime.lambdaTools.map((tool) => ({ name: tool.name, region: tool.function.env.region, calledFrom: runtime.region, function: tool.function.node.path })),
    );
    const mcpServers = runtimes.flatMap((runtime) =>
      runtime.mcpServers.map((server) => ({
        name: server.name,
        url: Token.isUnresolved(server.url) ? '(deployment)' : server.url,
        ...server.processing,
        calledFrom: runtime.region,
      })),
    );
    const runtimeRegions = runtimes.map((runtime) => runtime.region);
    const table = this.props.tables[jurisdiction.name];
    return {
      name: jurisdiction.name,
      geography: jurisdiction.geography,
      restricted: jurisdiction.restricted,
      homeRegion: jurisdiction.homeRegion,
      ...(jurisdiction.processingRegions ? { allowedProcessingRegions: [...jurisdiction.processingRegions] } : {}),
      processing: {
        regions: sortedUnique([
          ...runtimeRegions,
          ...models.flatMap((model) => [...model.endpointRegions, ...model.destinationRegions]),
          ...tools.map((tool) => tool.region),
          ...mcpServers.flatMap((server) => (server.region ? [server.region] : [])),
        ]),
        runtimes: runtimeRegions,
        models,
        tools,
        providers: providersOf(runtimes),
        mcpServers,
      },
      storage: {
        table: table.tableName,
        replicas: table.replicaRegions.map((region) => ({ region, home: region === jurisdiction.homeRegion, pointInTimeRecovery: true })),
        ...(table.witnessRegion ? { witnessRegion: table.witnessRegion } : {}),
        erasure: {
          ownerIndex: TableSchema.ownerIndex.name,
          regions: table.replicaRegions,
          pointInTimeRecoveryDays: ConversationTable.POINT_IN_TIME_RECOVERY_DAYS,
          tombstoneHours: TOMBSTONE_HOURS,
        },
      },
      routing: this.routingOf(jurisdiction, runtimeRegions),
    };
  }

  private routingOf(jurisdiction: Jurisdiction, regions: readonly string[]): ResidencyRouting {
    const { recordName, publicNames } = this.props;
    const kinds = new Set(regions.map((region) => publicNames[region]?.kind));
    const hostNames: ResidencyHostName[] = [
      { name: jurisdiction.hostName(recordName), regions, routing: 'latency: the nearest healthy region of the jurisdiction' },
      ...regions.map((region) => ({ name: `${region}.${recordName}`, regions: [region], routing: 'this region only' })),
    ];
    let geolocations: string[] = [];
    if (kinds.has('layered')) {
      geolocations = jurisdiction.geolocations.map(geoLabel);
      hostNames.push({
        name: recordName,
        regions,
        routing:
          (geolocations.length > 0 ? `geolocation: users in ${geolocations.join(', ')} to ${layeredRecordName.jurisdiction(jurisdiction, recordName)}; ` : '') +
          `users outside every jurisdiction's geolocations by latency over every region of the agent (${layeredRecordName.all(recordName)}), these among them`,
      });
    } else if (kinds.has('latency')) {
      hostNames.push({ name: recordName, regions, routing: 'latency over every region of the agent, these among them' });
    } else {
      const byRegion = regions.filter((region) => publicNames[region]?.locations.length);
      geolocations = byRegion.flatMap((region) => publicNames[region].locations.map(geoLabel));
      if (byRegion.length > 0) hostNames.push({ name: recordName, regions: byRegion, routing: `geolocation: users in ${geolocations.join(', ')}` });
    }
    return { hostNames, geolocations };
  }
}

/** The runtimes' chain targets grouped by what Bedrock is called with. */
function modelsOf(runtimes: readonly AgentRuntime[]): ResidencyModel[] {
  const byInvocation = new Map<string, { modelId: string; profile?: InferenceGeography; endpoints: string[]; destinations: string[]; tiers: Tier[] }>();
  for (const target of runtimes.flatMap((runtime) => runtime.targets)) {
    const entry = byInvocation.get(target.modelId) ?? {
      modelId: target.model.modelId,
      profile: target.invocation.geography,
      endpoints: [],
      destinations: [],
      tiers: [],
    };
    entry.endpoints.push(target.region);
    entry.destinations.push(...target.invocation.destinationRegions);
    entry.tiers.push(target.tier);
    byInvocation.set(target.modelId, entry);
  }
  return [...byInvocation].map(([invocationId, entry]) => ({
    invocationId,
    modelId: entry.modelId,
    ...(entry.profile ? { profile: entry.profile } : {}),
    endpointRegions: sortedUnique(entry.endpoints),
    destinationRegions: sortedUnique(entry.destinations),
    tiers: [...new Set(entry.tiers)],
  }));
}

/** The runtimes' outside providers, one entry per provider, model and residency. */
function providersOf(runtimes: readonly AgentRuntime[]): ResidencyProvider[] {
  const byName = new Map<string, { model: ResolvedProviderTarget['model']; calledFrom: string[] }>();
  for (const target of runtimes.flatMap((runtime) => runtime.providerTargets)) {
    const entry = byName.get(target.model.displayName) ?? { model: target.model, calledFrom: [] };
    entry.calledFrom.push(target.region);
    byName.set(target.model.displayName, entry);
  }
  return [...byName.values()].map(({ model, calledFrom }) => ({
    name: model.provider,
    model: model.modelId,
    residency: model.residency,
    processing: model.processingDescription,
    calledFrom: sortedUnique(calledFrom),
  }));
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** The report as Markdown, one section per jurisdiction. */
export function renderResidencyMarkdown(report: ResidencyReportDocument): string {
  const list = (values: readonly string[]) => (values.length > 0 ? values.map((value) => (value === '*' ? 'any region' : `\`${value}\``)).join(', ') : '—');
  const lines = [
    `# Residency of ${report.agent}`,
    '',
    `Written at synthesis from the same data as the IAM grants, the table replicas and the DNS records. Public name: \`${report.recordName}\`.`,
  ];
  for (const jurisdiction of report.jurisdictions) {
    const { processing, storage, routing } = jurisdiction;
    lines.push(
      '',
      `## ${jurisdiction.name}`,
      '',
      `Geography \`${jurisdiction.geography}\`, ${jurisdiction.restricted ? 'restricted' : 'unrestricted'}, home region \`${jurisdiction.homeRegion}\`.` +
        (jurisdiction.allowedProcessingRegions ? ` Processing allowed only in ${list(jurisdiction.allowedProcessingRegions)}.` : ''),
      '',
      `**Processed in:** ${list(processing.regions)}` +
        (processing.providers.length > 0
          ? `, and outside AWS by ${processing.providers.map((provider) => `${provider.name} (${provider.residency})`).join(', ')}`
          : ''),
      '',
      '| What | Called in | May process in |',
      '|---|---|---|',
      `| runtimes | ${list(processing.runtimes)} | ${list(processing.runtimes)} |`,
      ...processing.models.map(
        (model) =>
          `| ${model.profile ? `profile \`${model.invocationId}\`` : `model \`${model.invocationId}\` in-region`} (${model.tiers.join(', ')}) | ${list(model.endpointRegions)} | ${list(model.destinationRegions)} |`,
      ),
      ...processing.tools.map((tool) => `| tool \`${tool.name}\` (Lambda, from \`${tool.calledFrom}\`) | ${list([tool.region])} | ${list([tool.region])} |`),
      ...processing.mcpServers.map(
        (server) =>
          `| MCP server \`${server.name}\` (tools, from \`${server.calledFrom}\`) | ${list([server.region ?? server.residency ?? ''])} | ${server.region ? list([server.region]) : `${server.residency}, as the server declares`} |`,
      ),
      ...processing.providers.map(
        (provider) =>
          `| provider ${provider.name} \`${provider.model}\` (provider-fallback) | ${list(provider.calledFrom)} | outside AWS, ${provider.residency === 'global' ? 'anywhere' : provider.residency}: ${provider.processing} |`,
      ),
      '',
      `**Stored in:** table \`${storage.table}\`, replicas in ${list(storage.replicas.map((replica) => replica.region))} (home \`${jurisdiction.homeRegion}\`); point-in-time recovery backups stay in each replica's region.` +
        (storage.witnessRegion ? ` Witness \`${storage.witnessRegion}\` (replication metadata, no items).` : ''),
      '',
      `**Erasure:** deleting a conversation, or all of an owner's, marks it deleted in the home region (every region's reads and writes honour it at once), then deletes its items; ` +
        `the deletions replicate to ${list(storage.erasure.regions)}, and the owner index \`${storage.erasure.ownerIndex}\` (part of the table) follows in each. ` +
        `Point-in-time recovery can restore deleted items for ${storage.erasure.pointInTimeRecoveryDays} days, in each replica's region; ` +
        `the tombstone (ids, counters and times, no message text) expires ${storage.erasure.tombstoneHours} hours after the deletion.`,
      '',
      `**Users sent here:** ${routing.geolocations.length > 0 ? `located in ${routing.geolocations.join(', ')}, by the public name` : 'no geolocation sends users here specifically'}.`,
      '',
      '| Name | Answers from | Routing |',
      '|---|---|---|',
      ...routing.hostNames.map((host) => `| \`${host.name}\` | ${list(host.regions)} | ${host.routing} |`),
    );
  }
  return `${lines.join('\n')}\n`;
}
