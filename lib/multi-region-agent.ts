import { Annotations, Stack, Token, type RemovalPolicy } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AgentAuthorization } from './runtime/agent-api';
import { createAgentKey } from './governance/agent-key';
import type { AgentCode } from './agent/agent-code';
import type { AgentInstructions } from './agent/agent-instructions';
import type { AgentToolSource } from './agent/agent-tool';
import { AgentRuntime, type AgentRuntimeProps } from './runtime/agent-runtime';
import { AgentRouting, assertRecordInZone, geoLabel, PublicNameRouting } from './routing/agent-routing';
import { ConversationTable } from './state/conversation-table';
import { MultiRegionAgentError, withConstructPath } from './errors';
import { FallbackDashboard } from './observability/fallback-dashboard';
import { FallbackRateAlarm } from './observability/fallback-rate-alarm';
import { ProviderKeyAlarm } from './observability/provider-key-alarm';
import { TargetRejectedAlarm } from './observability/target-rejected-alarm';
import { GeolocationRouting } from './routing/geolocation-routing';
import { ResidencyReport, type ResidencyReportDocument } from './governance/residency-report';
import { validateJurisdictions, type Jurisdiction } from './governance/jurisdiction';
import { LogEncryption } from './governance/log-encryption';
import type { ModelChain } from './chain/model-chain';

/** How users are sent to a region. */
export class RoutingStrategy {
  /**
   * Latency-based: each user reaches the nearest healthy region; users located
   * in a jurisdiction's geolocations are kept in that jurisdiction.
   */
  static latency(): RoutingStrategy {
    return new RoutingStrategy(undefined);
  }

  /**
   * Geolocation only: continents/countries mapped to regions, everyone else to
   * `defaultRegion`. Simpler to reason about; no latency measurement involved.
   */
  static geolocation(props: { locations: Array<{ location: route53.GeoLocation; region: string }>; defaultRegion: string }): RoutingStrategy {
    return new RoutingStrategy(props);
  }

  private constructor(
    /** The locations mapped to regions and the default region, for geolocation routing; undefined for latency routing. */
    readonly geolocation: { locations: Array<{ location: route53.GeoLocation; region: string }>; defaultRegion: string } | undefined,
  ) {}
}

/** When each region's fallback-rate alarm fires, and whom it tells (see {@link FallbackRateAlarmProps}). */
export interface MultiRegionAgentAlarmOptions {
  /** The share of a region's requests answered by a fallback, in percent, above which it alarms. @default 20 */
  readonly thresholdPercent?: number;
  /** Number of most recent one-minute periods evaluated. @default 5 */
  readonly evaluationPeriods?: number;
  /** Number of breaching periods among `evaluationPeriods` that fire the alarm. @default 3 */
  readonly datapointsToAlarm?: number;
  /**
   * Requests per period a region needs for its fallback rate to alarm (and,
   * with `removeRegionFromDns`, to drain it): a quiet region with a few
   * fallbacks does neither. A positive integer.
   * @default 20
   */
  readonly minRequests?: number;
  /**
   * SNS topic ARN per region for people, notified when the region's alarm
   * (rate with request volume) fires and recovers; an alarm can only notify
   * a topic of its region.
   * @default - a new encrypted topic per region (`<agent>-<region>/FallbackRateAlarm/Notifications`), to subscribe to
   */
  readonly topicArns?: Record<string, string>;
  /**
   * Take a region out of DNS while its fallback-rate alarm fires with at
   * least `minRequests` requests per period (a calculated Route 53 health
   * check of HTTPS, the rate alarm and the request-volume alarm).
   * @default false
   */
  readonly removeRegionFromDns?: boolean;
}

/** Options of every jurisdiction's conversation table (see {@link ConversationTableProps}). */
export interface MultiRegionAgentTableOptions {
  /** Multi-region strong consistency for every table: reads in any replica see every acknowledged write. @default false */
  readonly strongConsistency?: boolean;
  /**
   * The witness region of each two-region strongly consistent table, by jurisdiction name
   * (a witness must share the region set of its jurisdiction's regions, so one value cannot serve all).
   * @default - none
   */
  readonly witnessRegions?: Record<string, string>;
  /** Whether DynamoDB refuses to delete the tables. @default true */
  readonly deletionProtection?: boolean;
  /** What happens to the tables when they leave their stacks. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Properties of a {@link MultiRegionAgent}: the account, the DNS names, the jurisdictions and their chains, the agent, and the settings of its runtimes, tables and alarms. */
export interface MultiRegionAgentProps {
  /**
   * Names stacks, tables, alarms, the dashboard and health-check tags.
   * @default - the construct's id
   */
  readonly agentName?: string;
  /** The AWS account to deploy to (every stack gets an explicit env). */
  readonly account: string;
  /** The public hosted zone, by attributes: no lookup, so synthesis works offline. */
  readonly hostedZone: { readonly hostedZoneId: string; readonly zoneName: string };
  /** The agent's public name, inside the zone, e.g. `agent.example.com`. */
  readonly recordName: string;
  /** The jurisdictions and their regions; a region belongs to exactly one. */
  readonly jurisdictions: Jurisdiction[];
  /** The fallback spec of every jurisdiction without one in `chains`. */
  readonly chain: ModelChain;
  /**
   * A jurisdiction's own fallback spec, by jurisdiction name, e.g. outside
   * providers for `us` only, where residency allows them.
   * @default - `chain` everywhere
   */
  readonly chains?: Readonly<Record<string, ModelChain>>;
  /**
   * The user's agent, run by every region: an entry file whose default
   * export is `defineAgent({ instructions, tools, maxSteps })`, bundled once
   * and validated at synthesis (see `AgentCode.fromEntry`).
   * @default - no code: the model answers with `instructions` alone
   */
  readonly agent?: AgentCode;
  /**
   * Instructions for an agent whose code does not define them, written into
   * each region's code asset as `instructions.md`.
   * @default - the instructions of the agent's code, or none
   */
  readonly instructions?: AgentInstructions;
  /**
   * Tools that are Lambda functions, and MCP servers, made per region:
   * called once in each region's stack, with a scope of its own in it
   * (`<agent>-<region>/Tools`), so that each region deploys its own tool
   * functions (and MCP token secrets) in its jurisdiction.
   *
   * Note: a tool's function must run in a region of the region's
   * jurisdiction (in the given scope, or imported from one), and an MCP
   * server in one of a restricted jurisdiction's.
   * @default - none
   */
  readonly tools?: (scope: Construct, region: string, jurisdiction: Jurisdiction, context: AgentToolsContext) => AgentToolSource[];
  /** How users reach a region: by latency (kept in their jurisdiction) or by geolocation only. @default RoutingStrategy.latency() */
  readonly routing?: RoutingStrategy;
  /**
   * Cognito user pool (by ARN) whose ID tokens authorize callers.
   * @default - IAM (SigV4) authorization
   */
  readonly cognitoUserPoolArn?: string;
  /** When each region's fallback-rate alarm fires, and whom it tells. @default - the defaults of FallbackRateAlarm */
  readonly alarms?: MultiRegionAgentAlarmOptions;
  /**
   * Function and runtime settings for every region.
   *
   * Note: `logEncryption` takes `LogEncryption.kms()` (the default: each
   * region's key, `<agent>-<region>/Key`) or `LogEncryption.serviceManaged()`;
   * a given key cannot serve several regions.
   * @default - the defaults of AgentRuntimeProps
   */
  readonly runtime?: Pick<
    AgentRuntimeProps,
    | 'memorySize'
    | 'timeout'
    | 'reservedConcurrentExecutions'
    | 'throttling'
    | 'healthThrottling'
    | 'settings'
    | 'sharedHealth'
    | 'probes'
    | 'logRetention'
    | 'logEncryption'
    | 'tracing'
    | 'manageApiGatewayAccount'
  >;
  /** Table options for every jurisdiction. @default - the defaults of MultiRegionAgentTableOptions */
  readonly table?: MultiRegionAgentTableOptions;
  /**
   * Region of the monitoring stack (dashboard, and the geolocation records).
   * @default 'us-east-1' (where Route 53's health-check metrics are)
   */
  readonly monitoringRegion?: string;
  /** The CloudWatch namespace of the runtimes' metrics. @default 'MultiRegionAgent' */
  readonly metricsNamespace?: string;
}

/** What a region's tools factory gets besides its scope, so that the tools' resources match the region's. */
export interface AgentToolsContext {
  /**
   * The KMS key of the region's log groups, for the tools' own log groups
   * (its policy lets CloudWatch Logs of the region use it).
   * Undefined with `runtime.logEncryption: LogEncryption.serviceManaged()`.
   */
  readonly logEncryptionKey?: kms.IKey;
  /** How long the region's log groups keep their records (`runtime.logRetention`). */
  readonly logRetention: logs.RetentionDays;
}

/**
 * The one-call pattern. In an App or a Stage it creates:
 * - a home stack per jurisdiction (`<agent>-<jurisdiction>-home`): the conversation table;
 * - a stack per region (`<agent>-<region>`): runtime, fallback-rate alarm, Route 53 records and health check;
 * - a monitoring stack (`<agent>-monitoring`): the dashboard and, when needed, the public name's geolocation records.
 * Stack ids are derived from names, so adding a region or a jurisdiction later only adds stacks and records.
 */
export class MultiRegionAgent extends Construct {
  /** The agent's name (`agentName`, or the construct's id), which names its stacks and resources. */
  readonly agentName: string;
  /** The jurisdictions, as given. */
  readonly jurisdictions: readonly Jurisdiction[];
  /** Each jurisdiction's home stack (`<agent>-<jurisdiction>-home`), by jurisdiction name. */
  readonly homeStacks: Record<string, Stack> = {};
  /** Each jurisdiction's conversation table, by jurisdiction name. */
  readonly tables: Record<string, ConversationTable> = {};
  /** Each region's stack (`<agent>-<region>`), by region. */
  readonly regionStacks: Record<string, Stack> = {};
  /** Each region's runtime. */
  readonly runtimes: AgentRuntime[] = [];
  /** Each region's Route 53 records and health check. */
  readonly routings: AgentRouting[] = [];
  /** Each region's fallback-rate alarm. */
  readonly alarms: FallbackRateAlarm[] = [];
  /** Each region's alarm on its outside providers' keys (regions whose chain has outside providers). */
  readonly providerKeyAlarms: ProviderKeyAlarm[] = [];
  /** Each region's alarm on outside providers refusing requests Bedrock takes (regions whose chain has outside providers). */
  readonly targetRejectedAlarms: TargetRejectedAlarm[] = [];
  /** The stack of the dashboard and, when needed, the public name's geolocation records (`<agent>-monitoring`). */
  readonly monitoringStack: Stack;
  /** The fallback dashboard of every region. */
  readonly dashboard: FallbackDashboard;
  /** The residency report, written into the cloud assembly at synthesis (`<agent>.residency.json` and `.md`). */
  readonly residency: ResidencyReport;

  constructor(scope: Construct, id: string, props: MultiRegionAgentProps) {
    super(scope, id);
    this.agentName = props.agentName ?? id;
    this.jurisdictions = props.jurisdictions;
    this.validateProps(props);
    const routing = props.routing ?? RoutingStrategy.latency();
    const publicNames = this.publicNameRoutings(routing);
    for (const jurisdiction of props.jurisdictions) {
      this.addJurisdictionHome(scope, jurisdiction, props);
      for (const region of jurisdiction.regions) this.addRegion(scope, jurisdiction, region, publicNames[region], props);
    }
    this.monitoringStack = this.addMonitoringStack(scope, props);
    this.dashboard = this.addDashboard(props);
    if (!routing.geolocation) this.addGeolocationRouting(props);
    this.residency = this.addResidencyReport(publicNames, props);
  }

  /**
   * Where each jurisdiction's prompts and answers may be processed (runtimes,
   * Bedrock profiles' destinations, tool functions), where its conversations
   * are stored, and which names and geolocations send users to it; derived
   * from the same targets, tools, replicas and records as what is deployed.
   */
  residencyReport(): ResidencyReportDocument {
    return this.residency.document();
  }

  /** Refuses what cannot be deployed, naming the prop; in the order the checks always ran, so a prop set with several faults names the same one. */
  private validateProps(props: MultiRegionAgentProps): void {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(this.agentName)) {
      throw new MultiRegionAgentError(
        'InvalidAgentName',
        `agentName must be lowercase letters, digits and dashes (it names stacks, tables and alarms), got '${this.agentName}'`,
        this,
      );
    }
    if (Token.isUnresolved(props.account) || !/^\d{12}$/.test(props.account)) {
      throw new MultiRegionAgentError('InvalidAccount', `account must be a 12-digit AWS account id, got '${props.account}'`, this);
    }
    assertRecordInZone(this, props.recordName, props.hostedZone);
    withConstructPath(this, () => validateJurisdictions(props.jurisdictions));
    // Per-region and per-jurisdiction maps are looked up by key: a mistyped key would be silently ignored.
    const regions = regionsOf(props.jurisdictions);
    this.assertKnownKeys(
      props.alarms?.topicArns,
      regions,
      'UnknownAlarmRegion',
      (unknown) => `alarms.topicArns: unknown region ${unknown} (the agent's regions: ${regions.join(', ')})`,
    );
    if (props.runtime?.logEncryption?.key) {
      throw new MultiRegionAgentError(
        'LogKeyForAllRegions',
        "runtime.logEncryption: a KMS key belongs to one region, and this agent has several; use LogEncryption.kms() (each region's own key) or LogEncryption.serviceManaged()",
        this,
      );
    }
    const names = props.jurisdictions.map((jurisdiction) => jurisdiction.name);
    this.assertKnownKeys(
      props.chains,
      names,
      'UnknownChainJurisdiction',
      (unknown) => `chains: unknown jurisdiction ${unknown} (the agent's: ${names.join(', ')})`,
    );
    this.assertKnownKeys(
      props.table?.witnessRegions,
      names,
      'UnknownWitnessJurisdiction',
      (unknown) => `table.witnessRegions: unknown jurisdiction ${unknown} (the agent's jurisdictions: ${names.join(', ')})`,
    );
  }

  /** Throws `code` when `map` has a key outside `known`; `message` gets the unknown keys, comma-separated. */
  private assertKnownKeys(map: object | undefined, known: readonly string[], code: string, message: (unknown: string) => string): void {
    const unknown = Object.keys(map ?? {}).filter((key) => !known.includes(key));
    if (unknown.length > 0) throw new MultiRegionAgentError(code, message(unknown.join(', ')), this);
  }

  /**
   * Each region's part in the public name's records. Latency routing is always
   * layered under the public name's geolocation records, so that adding a
   * geolocated jurisdiction later only adds records instead of replacing the public name's.
   */
  private publicNameRoutings(routing: RoutingStrategy): Readonly<Record<string, PublicNameRouting>> {
    const regions = regionsOf(this.jurisdictions);
    const geolocation = routing.geolocation;
    if (!geolocation) return Object.fromEntries(regions.map((region) => [region, PublicNameRouting.layered()]));
    this.assertGeolocationsKept(this.jurisdictions, geolocation.locations);
    return withConstructPath(this, () => PublicNameRouting.geolocationByRegion({ ...geolocation, regions }));
  }

  /** The jurisdiction's home stack (`<agent>-<jurisdiction>-home`) and its conversation table. */
  private addJurisdictionHome(scope: Construct, jurisdiction: Jurisdiction, props: MultiRegionAgentProps): void {
    const home = new Stack(scope, `${this.agentName}-${jurisdiction.name}-home`, {
      env: { account: props.account, region: jurisdiction.homeRegion },
      description: `${this.agentName}: conversation table of jurisdiction ${jurisdiction.name}`,
    });
    this.homeStacks[jurisdiction.name] = home;
    if (jurisdiction.restricted && jurisdiction.geolocations.length === 0) {
      const limits = jurisdiction.processingRegions ? `limits processing to ${jurisdiction.processingRegions.join(', ')}` : 'is restricted';
      Annotations.of(home).addWarningV2(
        'cdk-multi-region-agent:RestrictedWithoutGeolocations',
        `jurisdiction '${jurisdiction.name}' ${limits} but has no geolocations: its users follow plain latency routing on ${props.recordName}, possibly to another jurisdiction's regions; give it geolocations, or have its users call ${jurisdiction.hostName(props.recordName)}`,
      );
    }
    const { witnessRegions, ...tableOptions } = props.table ?? {};
    this.tables[jurisdiction.name] = new ConversationTable(home, 'Conversations', {
      jurisdiction,
      tableName: ConversationTable.tableNameFor(this.agentName, jurisdiction),
      ...tableOptions,
      witnessRegion: witnessRegions?.[jurisdiction.name],
    });
  }

  /** The region's stack (`<agent>-<region>`), deployed after its jurisdiction's home: its key, runtime, alarms and Route 53 records. */
  private addRegion(scope: Construct, jurisdiction: Jurisdiction, region: string, publicName: PublicNameRouting, props: MultiRegionAgentProps): void {
    const stack = new Stack(scope, `${this.agentName}-${region}`, {
      env: { account: props.account, region },
      description: `${this.agentName}: agent runtime and routing in ${region} (jurisdiction ${jurisdiction.name})`,
    });
    stack.addStackDependency(this.homeStacks[jurisdiction.name], 'the runtime reads and writes its jurisdiction table');
    this.regionStacks[region] = stack;
    const site: RegionSite = {
      jurisdiction,
      region,
      stack,
      zone: this.zoneIn(stack, props.hostedZone),
      // One key per region for its log groups and alarm topics: a KMS key costs $1 a month.
      key: createAgentKey(stack, 'Key', `${this.agentName} ${region}: log groups and alarm topics`),
    };
    const runtime = this.addRuntime(site, props);
    const alarm = this.addAlarms(site, runtime, props.alarms);
    this.routings.push(
      new AgentRouting(stack, 'Routing', {
        agentName: this.agentName,
        hostedZone: site.zone,
        recordName: props.recordName,
        jurisdiction,
        domains: runtime.domains!,
        publicName,
        alarm: props.alarms?.removeRegionFromDns ? alarm.alarm : undefined,
        requestVolumeAlarm: props.alarms?.removeRegionFromDns ? alarm.requestVolumeAlarm : undefined,
      }),
    );
  }

  /** The region's runtime: its jurisdiction's chain, the agent, the region's tools, the table by name, the region's log key. */
  private addRuntime(site: RegionSite, props: MultiRegionAgentProps): AgentRuntime {
    const { stack, region, jurisdiction } = site;
    const logEncryptionKey = (props.runtime?.logEncryption ?? LogEncryption.kms(site.key)).keyFor(stack, 'LogKey');
    const toolsContext: AgentToolsContext = { logEncryptionKey, logRetention: props.runtime?.logRetention ?? logs.RetentionDays.ONE_YEAR };
    const runtime = new AgentRuntime(stack, 'Runtime', {
      jurisdiction,
      chain: props.chains?.[jurisdiction.name] ?? props.chain,
      agent: props.agent,
      instructions: props.instructions,
      tools: props.tools?.(new Construct(stack, 'Tools'), region, jurisdiction, toolsContext),
      table: ConversationTable.fromJurisdiction(stack, 'Conversations', {
        jurisdiction,
        tableName: ConversationTable.tableNameFor(this.agentName, jurisdiction),
      }),
      recordName: props.recordName,
      hostedZone: site.zone,
      jurisdictionHosts: Object.fromEntries(this.jurisdictions.map((each) => [each.name, each.hostName(props.recordName)])),
      authorization: props.cognitoUserPoolArn
        ? AgentAuthorization.cognito(cognito.UserPool.fromUserPoolArn(stack, 'UserPool', props.cognitoUserPoolArn))
        : AgentAuthorization.iam(),
      metricsNamespace: props.metricsNamespace,
      ...props.runtime,
      logEncryption: logEncryptionKey ? LogEncryption.kms(logEncryptionKey) : LogEncryption.serviceManaged(),
    });
    this.runtimes.push(runtime);
    return runtime;
  }

  /** The region's fallback-rate alarm and, with outside providers, its provider alarms, all telling the alarm's topic; the probe's alarms tell it too. */
  private addAlarms(site: RegionSite, runtime: AgentRuntime, options: MultiRegionAgentAlarmOptions | undefined): FallbackRateAlarm {
    const { stack, region } = site;
    const topicArn = options?.topicArns?.[region];
    const alarmName = FallbackRateAlarm.nameFor(this.agentName, region);
    const alarm = new FallbackRateAlarm(stack, 'FallbackRateAlarm', {
      metrics: runtime.metrics,
      alarmName,
      thresholdPercent: options?.thresholdPercent,
      evaluationPeriods: options?.evaluationPeriods,
      datapointsToAlarm: options?.datapointsToAlarm,
      minRequests: options?.minRequests,
      topic: topicArn ? sns.Topic.fromTopicArn(stack, 'AlarmTopic', topicArn) : undefined,
      topicEncryptionKey: site.key,
    });
    this.alarms.push(alarm);
    if (runtime.providerTargets.length > 0) {
      this.providerKeyAlarms.push(
        new ProviderKeyAlarm(stack, 'ProviderKeyAlarm', { metrics: runtime.metrics, alarmName: `${alarmName}-provider-keys`, topic: alarm.topic }),
      );
      this.targetRejectedAlarms.push(
        new TargetRejectedAlarm(stack, 'TargetRejectedAlarm', { metrics: runtime.metrics, alarmName: `${alarmName}-target-rejected`, topic: alarm.topic }),
      );
    }
    // A broken fallback link is told to the same people as a high fallback rate.
    runtime.probe?.addAlarmAction(new actions.SnsAction(alarm.topic));
    return alarm;
  }

  /** The stack of the dashboard and, with latency routing, the public name's geolocation records (`<agent>-monitoring`). */
  private addMonitoringStack(scope: Construct, props: MultiRegionAgentProps): Stack {
    return new Stack(scope, `${this.agentName}-monitoring`, {
      env: { account: props.account, region: props.monitoringRegion ?? 'us-east-1' },
      description: `${this.agentName}: fallback dashboard and the public name's routing`,
    });
  }

  /** The fallback dashboard of every region, its tables and its alarms. */
  private addDashboard(props: MultiRegionAgentProps): FallbackDashboard {
    return new FallbackDashboard(this.monitoringStack, 'Dashboard', {
      agentName: this.agentName,
      jurisdictions: props.jurisdictions,
      tableNames: Object.fromEntries(Object.entries(this.tables).map(([name, table]) => [name, table.tableName])),
      alarmNames: Object.fromEntries(regionsOf(props.jurisdictions).map((region) => [region, FallbackRateAlarm.nameFor(this.agentName, region)])),
      fallbackRateThresholdPercent: props.alarms?.thresholdPercent,
      namespace: props.metricsNamespace,
    });
  }

  /** The public name's geolocation records, above the regions' latency records, in the monitoring stack. */
  private addGeolocationRouting(props: MultiRegionAgentProps): void {
    new GeolocationRouting(this.monitoringStack, 'GeolocationRouting', {
      hostedZone: this.zoneIn(this.monitoringStack, props.hostedZone),
      recordName: props.recordName,
      jurisdictions: props.jurisdictions,
    });
    // Its alias records point at the regions' latency sets, which must exist first.
    for (const stack of Object.values(this.regionStacks))
      this.monitoringStack.addStackDependency(stack, "geolocation records alias the regions' latency records");
  }

  /** The residency report of what was built, written into the cloud assembly at synthesis. */
  private addResidencyReport(publicNames: Readonly<Record<string, PublicNameRouting>>, props: MultiRegionAgentProps): ResidencyReport {
    return new ResidencyReport(this, 'ResidencyReport', {
      agentName: this.agentName,
      recordName: props.recordName,
      jurisdictions: props.jurisdictions,
      runtimes: this.runtimes,
      tables: this.tables,
      publicNames,
    });
  }

  /** The public hosted zone, imported by attributes into `stack` (no lookup). */
  private zoneIn(stack: Stack, hostedZone: MultiRegionAgentProps['hostedZone']): route53.IHostedZone {
    return route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
      hostedZoneId: hostedZone.hostedZoneId,
      zoneName: hostedZone.zoneName.replace(/\.$/, ''),
    });
  }

  /**
   * Plain geolocation routing replaces the layered records that keep a
   * restricted jurisdiction's users at home, so its locations must do that:
   * each of the jurisdiction's `geolocations` mapped to one of its regions.
   */
  private assertGeolocationsKept(jurisdictions: readonly Jurisdiction[], locations: ReadonlyArray<{ location: route53.GeoLocation; region: string }>): void {
    for (const jurisdiction of jurisdictions.filter((candidate) => candidate.restricted)) {
      for (const kept of jurisdiction.geolocations) {
        const mapped = locations.find((entry) => geoLabel(entry.location) === geoLabel(kept));
        if (!mapped || !jurisdiction.includes(mapped.region)) {
          throw new MultiRegionAgentError(
            'GeolocationLeavesJurisdiction',
            `routing: jurisdiction '${jurisdiction.name}' keeps ${geoLabel(kept)} in its regions (${jurisdiction.regions.join(', ')}), but RoutingStrategy.geolocation ${mapped ? `sends it to ${mapped.region}` : 'does not map it, so it would go to defaultRegion'}`,
            this,
          );
        }
      }
    }
  }
}

/** One region while its stack is built: where it is, and what its runtime, alarms and records share. */
interface RegionSite {
  readonly jurisdiction: Jurisdiction;
  readonly region: string;
  readonly stack: Stack;
  /** The public hosted zone, imported into the region's stack. */
  readonly zone: route53.IHostedZone;
  /** The region's key for its log groups and alarm topics. */
  readonly key: kms.IKey;
}

/** Every region of the jurisdictions, in their order. */
function regionsOf(jurisdictions: readonly Jurisdiction[]): string[] {
  return jurisdictions.flatMap((jurisdiction) => [...jurisdiction.regions]);
}
