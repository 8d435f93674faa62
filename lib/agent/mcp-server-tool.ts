import { Stack, Token, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import type { McpAuthSpec, McpServerSpec } from '../../lambda/agent/agent/asset-layout';
import { TOOL_NAME_PATTERN } from '../../lambda/agent/agent/definition';
import { INFERENCE_GEOGRAPHIES, type InferenceGeography } from '../../lambda/agent/config';
import { MultiRegionAgentError } from '../errors';
import type { Jurisdiction } from '../governance/jurisdiction';

/** The longest one request to an MCP server may take: Lambda's own limit for one invocation. */
const MAX_MCP_TIMEOUT_MS = 900_000;
const DEFAULT_MCP_TIMEOUT_MS = 10_000;
/** Plain HTTP is for emulators on this machine only. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

/** What a SigV4-signed MCP server is: the AWS resource the runtime signs for, and which the runtime's role is granted to invoke. */
export interface McpSigV4Options {
  /** A Lambda function behind a function URL with IAM auth: the role gets `lambda:InvokeFunctionUrl` on exactly it. Give this or `gatewayArn`. @default - none */
  readonly function?: lambda.IFunction;
  /** An AgentCore Gateway with IAM inbound auth: the role gets `bedrock-agentcore:InvokeGateway` on exactly it. Give this or `function`. @default - none */
  readonly gatewayArn?: string;
  /**
   * The signing name.
   * @default - `lambda` for a function, `bedrock-agentcore` for a gateway
   */
  readonly service?: string;
}

/** How the runtime authenticates to an MCP server. */
export abstract class McpAuth {
  /**
   * `Authorization: Bearer <token>`, the token the secret's string: read in
   * the runtime's region (so the secret must be in it; made per region in
   * MultiRegionAgent's `tools` factory), cached like providers' keys and
   * read again on a 401. The role may read exactly that secret.
   */
  static bearer(secret: secretsmanager.ISecret): McpAuth {
    return new BearerAuth(secret);
  }

  /** AWS SigV4 with the runtime's role, for a Lambda function URL or an AgentCore Gateway with IAM auth. */
  static sigv4(options: McpSigV4Options): McpAuth {
    return new SigV4Auth(options);
  }

  /** The region the server is in, when the authentication names it. */
  abstract readonly region?: string;
  /** The runtime's side of it, for mcp-servers.json; `scope` is in the runtime's stack. */
  abstract specIn(scope: IConstruct, where: string): McpAuthSpec;
  /** Exactly what the runtime's role needs. */
  abstract grant(role: iam.IRole, sid: string): void;
}

class BearerAuth extends McpAuth {
  readonly region = undefined;

  constructor(private readonly secret: secretsmanager.ISecret) {
    super();
  }

  specIn(scope: IConstruct, where: string): McpAuthSpec {
    const region = Stack.of(scope).region;
    const secretRegion = this.secret.env.region;
    if (!Token.isUnresolved(secretRegion) && !Token.isUnresolved(region) && secretRegion !== region) {
      throw new MultiRegionAgentError(
        'SecretInOtherRegion',
        `${where}: auth: the secret ${this.secret.node.path} is in ${secretRegion}, but the runtime in ${region} reads its token in its own region; make the secret in each region (MultiRegionAgent's tools factory gets the region)`,
        scope,
      );
    }
    return { kind: 'bearer', secretArn: this.secret.secretFullArn ?? this.secret.secretArn };
  }

  grant(role: iam.IRole, sid: string): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${sid}Token`,
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secret.secretFullArn ?? `${this.secret.secretArn}-??????`],
      }),
    );
    const key = this.secret.encryptionKey;
    if (key) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `${sid}TokenKey`,
          actions: ['kms:Decrypt'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(role).region}.amazonaws.com` } },
        }),
      );
    }
  }
}

class SigV4Auth extends McpAuth {
  readonly region?: string;
  private readonly service: string;

  constructor(private readonly options: McpSigV4Options) {
    super();
    if ((options.function === undefined) === (options.gatewayArn === undefined)) {
      throw new MultiRegionAgentError(
        'InvalidMcpAuth',
        'McpAuth.sigv4: give exactly one of function (a Lambda function URL) or gatewayArn (an AgentCore Gateway), the resource the role may invoke',
      );
    }
    this.service = options.service ?? (options.function ? 'lambda' : 'bedrock-agentcore');
    const region = options.function ? options.function.env.region : arnRegion(options.gatewayArn!);
    this.region = region === undefined || Token.isUnresolved(region) ? undefined : region;
  }

  specIn(scope: IConstruct, where: string): McpAuthSpec {
    if (!this.region) {
      throw new MultiRegionAgentError(
        'McpRegionUnknown',
        `${where}: auth: the region of the signed-for resource is not known at synthesis; define the function in a stack with an explicit env.region, or give a literal gateway ARN`,
        scope,
      );
    }
    return { kind: 'sigv4', service: this.service, region: this.region };
  }

  grant(role: iam.IRole, sid: string): void {
    const statement = this.options.function
      ? { actions: ['lambda:InvokeFunctionUrl'], resources: [this.options.function.functionArn] }
      : { actions: ['bedrock-agentcore:InvokeGateway'], resources: [this.options.gatewayArn!] };
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: `${sid}Invoke`, ...statement }));
  }
}

/** An MCP server as a source of the agent's tools: where it is, where it processes, how the runtime authenticates, and which of its tools the model sees. */
export interface McpServerToolOptions {
  /** The server's streamable HTTP endpoint: https, or http://localhost / http://127.0.0.1 for local emulators. A token (a function URL's `url`) is taken as is. */
  readonly url: string;
  /**
   * What logs and the tool metrics' `McpServer` property call the server.
   * @default - the URL's host (required when the URL is a token)
   */
  readonly name?: string;
  /** The region where the server processes tool inputs (a region of the jurisdiction, for a restricted one). Give this or `residency`. @default - the signed-for resource's region with SigV4 */
  readonly region?: string;
  /** The geography where the server processes tool inputs ('eu', 'us', 'apac', 'global'), when it is not one region. Give this or `region`. @default - none: `region` says where */
  readonly residency?: InferenceGeography;
  /** How the runtime authenticates: a bearer token from Secrets Manager, or SigV4. @default - none: the server needs no authentication */
  readonly auth?: McpAuth;
  /** Only these of the server's tools (their names on the server). @default - all */
  readonly include?: readonly string[];
  /** None of these (their names on the server). @default - none */
  readonly exclude?: readonly string[];
  /** Put before each tool's name, so that two servers' tools cannot clash. @default - none */
  readonly prefix?: string;
  /** Each request's time limit (a tool call, a listing, an initialization). @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Whether the server's tools need a person's approval before they run: all of them, or these (their names on the server). @default false */
  readonly needsApproval?: boolean | readonly string[];
}

/**
 * An MCP server (streamable HTTP) whose tools the agent uses, beside the
 * tools of its code and its Lambda tools (made with `AgentTool.fromMcpServer`).
 * The runtime lists the server's tools at its first message and keeps the
 * list for a TTL; see docs/constructs.md, "Tools from MCP servers".
 */
export class McpServerTool {
  /** What logs and metrics call the server. */
  readonly name: string;

  constructor(private readonly options: McpServerToolOptions) {
    const where = 'AgentTool.fromMcpServer';
    if (!Token.isUnresolved(options.url)) assertMcpUrl(where, options.url);
    this.name = options.name ?? hostOf(options.url) ?? '';
    if (!/^[A-Za-z0-9._:/-]{1,128}$/.test(this.name)) {
      throw new MultiRegionAgentError(
        'InvalidMcpServerName',
        `${where}: name must be 1-128 of A-Z a-z 0-9 . _ : / - (it is required when url is a token), got '${this.name}'`,
      );
    }
    if (options.region === undefined && options.residency === undefined && options.auth?.region === undefined) {
      throw new MultiRegionAgentError('McpRegionUnknown', `${where} '${this.name}': region or residency: say where the server processes tool inputs`);
    }
    if (options.residency !== undefined && !(INFERENCE_GEOGRAPHIES as readonly string[]).includes(options.residency)) {
      throw new MultiRegionAgentError(
        'InvalidMcpResidency',
        `${where} '${this.name}': residency must be one of ${INFERENCE_GEOGRAPHIES.join(', ')}, got '${options.residency}'`,
      );
    }
    if (options.prefix !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(options.prefix)) {
      throw new MultiRegionAgentError(
        'InvalidMcpPrefix',
        `${where} '${this.name}': prefix must be 1-32 of A-Z a-z 0-9 _ - (it becomes part of tool names), got '${options.prefix}'`,
      );
    }
    for (const name of options.include ?? []) {
      if (!TOOL_NAME_PATTERN.test(this.toolName(name))) {
        throw new MultiRegionAgentError(
          'InvalidToolName',
          `${where} '${this.name}': include: '${this.toolName(name)}' is not a tool name Bedrock accepts (1-64 of A-Z a-z 0-9 _ -)`,
        );
      }
    }
    const timeoutMs = options.timeout?.toMilliseconds() ?? DEFAULT_MCP_TIMEOUT_MS;
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_MCP_TIMEOUT_MS)) {
      throw new MultiRegionAgentError('InvalidToolTimeout', `${where} '${this.name}': timeout must be from 1 ms to 15 minutes, got ${timeoutMs} ms`);
    }
  }

  /** Where the server processes: a region, or a geography. */
  get processing(): { region?: string; residency?: InferenceGeography } {
    const region = this.options.region ?? this.options.auth?.region;
    return { ...(region !== undefined ? { region } : {}), ...(this.options.residency !== undefined ? { residency: this.options.residency } : {}) };
  }

  /** The server's streamable HTTP endpoint, as given (a token when it is a function URL's). */
  get url(): string {
    return this.options.url;
  }

  /** What is put before each of the server's tool names ('' for none). */
  get prefix(): string {
    return this.options.prefix ?? '';
  }

  /** The tool names the model will see, when the include list says which; undefined when only the server knows. */
  get knownToolNames(): string[] | undefined {
    return this.options.include?.map((name) => this.toolName(name));
  }

  /** Each request's time limit, in milliseconds. */
  get timeoutMs(): number {
    return this.options.timeout?.toMilliseconds() ?? DEFAULT_MCP_TIMEOUT_MS;
  }

  /** Refuses a server outside a restricted jurisdiction: tool inputs carry the conversation's data. */
  assertAllowedIn(jurisdiction: Jurisdiction, scope: IConstruct): void {
    if (!jurisdiction.restricted) return;
    const { region, residency } = this.processing;
    const where = `tools: MCP server '${this.name}'`;
    if (region !== undefined && !jurisdiction.includes(region)) {
      throw new MultiRegionAgentError(
        'McpServerOutsideJurisdiction',
        `${where} processes in ${region}, outside restricted jurisdiction '${jurisdiction.name}' (${jurisdiction.regions.join(', ')}); tool inputs carry the conversation's data: use a server in one of the jurisdiction's regions`,
        scope,
      );
    }
    if (region === undefined && (residency !== jurisdiction.geography || jurisdiction.processingRegions)) {
      throw new MultiRegionAgentError(
        'McpServerOutsideJurisdiction',
        `${where} processes ${residency === 'global' ? 'anywhere in the world' : `in ${residency}`}, which restricted jurisdiction '${jurisdiction.name}' (${jurisdiction.regions.join(', ')}) does not allow; give the server's region, one of the jurisdiction's`,
        scope,
      );
    }
  }

  /** Its entry in the code asset's mcp-servers.json (a token URL is left empty: the runtime reads it from its environment). */
  specIn(scope: IConstruct): McpServerSpec {
    const { include, exclude, prefix, needsApproval } = this.options;
    return {
      name: this.name,
      url: Token.isUnresolved(this.options.url) ? '' : this.options.url,
      ...this.processing,
      ...(this.options.auth ? { auth: this.options.auth.specIn(scope, `tools: MCP server '${this.name}'`) } : {}),
      ...(include ? { include: [...include] } : {}),
      ...(exclude ? { exclude: [...exclude] } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
      timeoutMs: this.timeoutMs,
      ...(needsApproval !== undefined ? { needsApproval: typeof needsApproval === 'boolean' ? needsApproval : [...needsApproval] } : {}),
    };
  }

  /** Grants `role` exactly what the server's auth needs (the secret, or the invoke action on the signed-for resource); `index` names the statements. */
  grant(role: iam.IRole, index: number): void {
    this.options.auth?.grant(role, `McpServer${index}`);
  }

  private toolName(name: string): string {
    return `${this.options.prefix ?? ''}${name}`;
  }
}

/** https, or plain http to this machine (local emulators). */
function assertMcpUrl(where: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MultiRegionAgentError('InvalidMcpUrl', `${where}: url is not a URL: '${url}'`);
  }
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && LOCAL_HOSTS.has(parsed.hostname)) return;
  throw new MultiRegionAgentError(
    'InvalidMcpUrl',
    `${where}: url must be https (tool inputs and the caller's ids travel in it), or http://localhost / http://127.0.0.1 for a local emulator; got '${url}'`,
  );
}

function hostOf(url: string): string | undefined {
  if (Token.isUnresolved(url)) return undefined;
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** arn:<partition>:<service>:<region>:... */
function arnRegion(arn: string): string | undefined {
  return Token.isUnresolved(arn) ? undefined : arn.split(':')[3] || undefined;
}
