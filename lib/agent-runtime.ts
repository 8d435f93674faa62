import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { CONFIG_ENV_VAR, validateRuntimeConfig, type RuntimeConfigInput } from '../lambda/agent/config';
import { AgentMetrics } from './agent-metrics';
import type { IConversationTable } from './conversation-table';
import { MultiRegionAgentError, withConstructPath } from './errors';
import type { Jurisdiction } from './jurisdiction';
import type { ModelChain, ResolvedTarget } from './model-chain';
import { PREBUNDLED_FILE, RUNTIME_BUNDLE_OPTIONS, runtimeCodeSource } from './runtime-bundle';

/** Lambda allows 4 KB of environment variables in total. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
const INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];

/** Who may call the agent's API. */
export class AgentAuthorization {
  /** SigV4-signed requests by IAM principals allowed `execute-api:Invoke` (the caller's ARN is the owner of its conversations). */
  static iam(): AgentAuthorization {
    return new AgentAuthorization(undefined);
  }

  /** Bearer ID tokens of a Cognito user pool (the user's `sub` is the owner of its conversations). */
  static cognito(userPool: cognito.IUserPool): AgentAuthorization {
    return new AgentAuthorization(userPool);
  }

  private constructor(readonly userPool: cognito.IUserPool | undefined) {}
}

/** The host names one region's API answers on. */
export interface AgentDomains {
  /** The public name shared by every region (latency- or geolocation-routed). */
  readonly publicDomain: apigateway.IDomainName;
  /** `<jurisdiction>.<name>`, shared by the jurisdiction's regions. */
  readonly jurisdictionDomain: apigateway.IDomainName;
  /** `<region>.<name>`, this region only: health checks and operators use it. */
  readonly regionalDomain: apigateway.IDomainName;
}

/** Runtime settings passed through to the configuration (see README, Agent runtime). */
export type AgentRuntimeSettings = Pick<RuntimeConfigInput, 'deadlines' | 'breaker' | 'latencySamples' | 'inference' | 'limits'> & {
  /** @default false */
  readonly logMessageText?: boolean;
  /** @default 20 */
  readonly historyTurns?: number;
  /** @default 30 */
  readonly ttlDays?: number;
};

export interface AgentRuntimeProps {
  /** The jurisdiction this region belongs to; the stack's region must be one of its regions. */
  readonly jurisdiction: Jurisdiction;
  /** The fallback spec, expanded here into this region's targets. */
  readonly chain: ModelChain;
  /** The jurisdiction's conversation table (its home-region replica is read and written). */
  readonly table: IConversationTable;
  /**
   * The public DNS name of the agent, e.g. `agent.example.com`. With
   * `hostedZone`, the API answers on it, on `<jurisdiction>.<name>` and on
   * `<region>.<name>`, with an ACM certificate validated in the zone.
   * @default - no custom domain: the API's execute-api URL only
   */
  readonly recordName?: string;
  /** The hosted zone of `recordName`. @default - no custom domain */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Host of every jurisdiction, for 421 answers that name the right host.
   * @default - this jurisdiction's `<jurisdiction>.<recordName>` only
   */
  readonly jurisdictionHosts?: Record<string, string>;
  /** @default AgentAuthorization.iam() */
  readonly authorization?: AgentAuthorization;
  /**
   * Memory of the function. Answers are I/O-bound; 1024 MB buys the CPU that
   * keeps cold starts and SDK (de)serialization short.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Function (and streaming integration) timeout; it bounds one streamed answer.
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** Stage throttling. @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttling?: { readonly rateLimit: number; readonly burstLimit: number };
  /** @default - the runtime's documented defaults */
  readonly settings?: AgentRuntimeSettings;
  /** @default 'MultiRegionAgent' */
  readonly metricsNamespace?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Create the role API Gateway writes its logs with, and register it for the
   * account. That registration is one setting per account and region
   * (AWS::ApiGateway::Account): set false when another stack already makes it,
   * such as a second agent in the same account or your landing zone.
   * @default true
   */
  readonly manageApiGatewayAccount?: boolean;
}

/**
 * One region's agent runtime: the streaming Lambda function, its REST API
 * (response streaming, request validation, access logs, throttling, IAM or
 * Cognito authorization, `/health`), its custom domains, and grants for
 * exactly the Bedrock targets of its chain and its jurisdiction's table.
 */
export class AgentRuntime extends Construct {
  /** The configuration given to the function as AGENT_CONFIG (also used by the local playground). */
  readonly runtimeConfig: RuntimeConfigInput;
  readonly function: lambda.Function;
  readonly api: apigateway.RestApi;
  /** Present when `recordName` and `hostedZone` were given. */
  readonly domains?: AgentDomains;
  readonly metrics: AgentMetrics;
  readonly region: string;
  readonly jurisdiction: Jurisdiction;
  /** This region's resolved chain targets, in order. */
  readonly targets: readonly ResolvedTarget[];

  constructor(scope: Construct, id: string, props: AgentRuntimeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new MultiRegionAgentError(
        'RegionRequired',
        'AgentRuntime needs a stack with an explicit env.region: its chain, grants and routing are per region',
        this,
      );
    }
    if (!props.jurisdiction.includes(stack.region)) {
      throw new MultiRegionAgentError(
        'RegionOutsideJurisdiction',
        `jurisdiction: the stack's region ${stack.region} is not a region of '${props.jurisdiction.name}' (${props.jurisdiction.regions.join(', ')})`,
        this,
      );
    }
    if (props.table.jurisdiction.name !== props.jurisdiction.name) {
      throw new MultiRegionAgentError(
        'TableOfOtherJurisdiction',
        `table: belongs to jurisdiction '${props.table.jurisdiction.name}', not '${props.jurisdiction.name}'`,
        this,
      );
    }
    if ((props.recordName === undefined) !== (props.hostedZone === undefined)) {
      throw new MultiRegionAgentError('DomainNeedsZone', 'recordName and hostedZone: give both for a custom domain, or neither', this);
    }
    this.region = stack.region;
    this.jurisdiction = props.jurisdiction;
    this.metrics = new AgentMetrics({ region: this.region, account: stack.account, namespace: props.metricsNamespace });
    this.targets = withConstructPath(this, () => props.chain.targetsFor(props.jurisdiction, this.region));
    this.runtimeConfig = this.buildConfig(props);

    const timeout = props.timeout ?? Duration.minutes(2);
    this.function = this.createFunction(props, timeout);
    this.grantBedrock();
    props.table.grantConversationAccess(this.function);

    this.api = this.createApi(props, timeout);
    if (props.recordName && props.hostedZone) this.domains = this.createDomains(props.recordName, props.hostedZone);
  }

  /** Fallback rate % of this region (metric math over Fallbacks and Requests). */
  metricFallbackRate(options?: { period?: Duration }) {
    return this.metrics.fallbackRate(options);
  }

  /** Time to first token in ms (p50 unless `statistic` says otherwise). */
  metricTimeToFirstToken(options?: Parameters<AgentMetrics['timeToFirstToken']>[0]) {
    return this.metrics.timeToFirstToken(options);
  }

  /** Messages handled by this region (Sum). */
  metricRequests(options?: Parameters<AgentMetrics['requests']>[0]) {
    return this.metrics.requests(options);
  }

  private buildConfig(props: AgentRuntimeProps): RuntimeConfigInput {
    const settings = props.settings ?? {};
    const prices = Object.fromEntries(this.targets.filter((target) => target.model.price).map((target) => [target.modelId, target.model.price!]));
    const config: RuntimeConfigInput = {
      region: this.region,
      jurisdiction: props.jurisdiction.toConfig(),
      chain: this.targets.map(({ modelId, region, tier }) => ({ modelId, region, tier })),
      jurisdictionHosts: props.jurisdictionHosts ?? (props.recordName ? { [props.jurisdiction.name]: props.jurisdiction.hostName(props.recordName) } : {}),
      table: { name: props.table.tableName, homeRegion: props.jurisdiction.homeRegion, historyTurns: settings.historyTurns, ttlDays: settings.ttlDays },
      deadlines: settings.deadlines,
      breaker: settings.breaker,
      latencySamples: settings.latencySamples,
      inference: settings.inference,
      limits: settings.limits,
      prices,
      observability: { metricsNamespace: this.metrics.namespace, logMessageText: settings.logMessageText },
    };
    // The runtime validates the same document at cold start; failing here keeps a bad one from deploying.
    withConstructPath(this, () => validateRuntimeConfig(config), 'InvalidRuntimeConfig');
    const size = Buffer.byteLength(CONFIG_ENV_VAR) + Buffer.byteLength(JSON.stringify(config));
    if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES - 256) {
      throw new MultiRegionAgentError(
        'ConfigTooLarge',
        `the runtime configuration takes ${size} bytes of Lambda's 4 KB environment; shorten the chain or the system prompt`,
        this,
      );
    }
    return config;
  }

  private createFunction(props: AgentRuntimeProps, timeout: Duration): lambda.Function {
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    // Our own role: writing to its one log group, instead of the managed basic-execution policy for every group.
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Agent runtime (${this.jurisdiction.name}, ${this.region})`,
      inlinePolicies: {
        Logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
        }),
      },
    });
    const common = {
      role,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup,
      environment: { [CONFIG_ENV_VAR]: JSON.stringify(this.runtimeConfig) },
      description: `Multi-region agent runtime (${this.jurisdiction.name}, ${this.region})`,
    };
    const code = runtimeCodeSource();
    if (code.kind === 'prebundled') {
      return new lambda.Function(this, 'Function', {
        ...common,
        code: lambda.Code.fromAsset(code.directory),
        handler: `${PREBUNDLED_FILE.replace(/\.mjs$/, '')}.handler`,
      });
    }
    return new nodejs.NodejsFunction(this, 'Function', {
      ...common,
      entry: code.entry,
      handler: 'handler',
      projectRoot: code.projectRoot,
      depsLockFilePath: code.lockFile,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: RUNTIME_BUNDLE_OPTIONS.target,
        minify: RUNTIME_BUNDLE_OPTIONS.minify,
        mainFields: [...RUNTIME_BUNDLE_OPTIONS.mainFields],
        banner: RUNTIME_BUNDLE_OPTIONS.banner,
        // Bundle the SDK clients we pinned and tested instead of the runtime's copy.
        bundleAwsSDK: true,
        sourceMap: false,
      },
    });
  }

  /**
   * bedrock:InvokeModel* on exactly this region's targets: each inference
   * profile by its ARN, and the foundation model in the profile's
   * destination regions only when called through that profile; in-region
   * models by their own ARN.
   */
  private grantBedrock(): void {
    const stack = Stack.of(this);
    const profileArn = (target: ResolvedTarget) =>
      stack.formatArn({ service: 'bedrock', region: target.region, resource: 'inference-profile', resourceName: target.modelId });
    const modelArn = (region: string, modelId: string) =>
      stack.formatArn({ service: 'bedrock', region: region === '*' ? '' : region, account: '', resource: 'foundation-model', resourceName: modelId });
    const viaProfile = this.targets.filter((target) => target.invocation.geography !== undefined);
    const inRegion = this.targets.filter((target) => target.invocation.geography === undefined);
    if (viaProfile.length > 0) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'InvokeInferenceProfiles', actions: INVOKE_ACTIONS, resources: unique(viaProfile.map(profileArn)) }),
      );
      for (const [index, modelId] of unique(viaProfile.map((target) => target.model.modelId)).entries()) {
        const profiles = viaProfile.filter((target) => target.model.modelId === modelId);
        this.function.addToRolePolicy(
          new iam.PolicyStatement({
            sid: `InvokeModelThroughProfile${index}`,
            actions: INVOKE_ACTIONS,
            resources: unique(profiles.flatMap((target) => target.invocation.destinationRegions.map((region) => modelArn(region, modelId)))),
            conditions: { StringEquals: { 'bedrock:InferenceProfileArn': unique(profiles.map(profileArn)) } },
          }),
        );
      }
    }
    if (inRegion.length > 0) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'InvokeInRegionModels',
          actions: INVOKE_ACTIONS,
          resources: unique(inRegion.map((target) => modelArn(target.region, target.modelId))),
        }),
      );
    }
  }

  private createApi(props: AgentRuntimeProps, timeout: Duration): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    const throttling = props.throttling ?? { rateLimit: 50, burstLimit: 100 };
    const api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-agent`,
      description: `Multi-region agent API (${this.jurisdiction.name}, ${this.region})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // The execute-api URL would bypass the custom domains' routing; clients use the domains.
      disableExecuteApiEndpoint: props.recordName !== undefined,
      cloudWatchRole: props.manageApiGatewayAccount ?? true,
      deployOptions: {
        stageName: 'prod',
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Execution logs would otherwise carry request bodies, i.e. message text.
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
      },
    });
    this.addJsonGatewayResponses(api);

    const integration = new apigateway.LambdaIntegration(this.function, {
      proxy: true,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      timeout,
      // One permission for the API rather than one per method and test invocation.
      scopePermissionToMethod: false,
    });
    const authorizer = props.authorization?.userPool
      ? new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [props.authorization.userPool] })
      : undefined;
    const authorized: apigateway.MethodOptions = authorizer
      ? { authorizer, authorizationType: apigateway.AuthorizationType.COGNITO }
      : { authorizationType: apigateway.AuthorizationType.IAM };

    const messageModel = api.addModel('MessageModel', {
      contentType: 'application/json',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        type: apigateway.JsonSchemaType.OBJECT,
        required: ['text'],
        additionalProperties: false,
        properties: { text: { type: apigateway.JsonSchemaType.STRING, minLength: 1 } },
      },
    });
    const validator = api.addRequestValidator('RequestValidator', { validateRequestBody: true, validateRequestParameters: true });
    const conversationIdRequired = { 'method.request.path.conversationId': true };

    // Route 53 health checks cannot sign requests; the answer reveals only the region.
    const health = api.root.addResource('health').addMethod('GET', integration, { authorizationType: apigateway.AuthorizationType.NONE });
    Validations.of(health).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'GET /health serves Route 53 health checkers, which cannot authenticate; it returns only the region name.',
    });
    Validations.of(health).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'GET /health serves Route 53 health checkers, which cannot present Cognito tokens.',
    });
    const conversation = api.root.addResource('v1').addResource('conversations').addResource('{conversationId}');
    const methods = [
      conversation.addMethod('GET', integration, { ...authorized, requestParameters: conversationIdRequired, requestValidator: validator }),
      conversation.addResource('messages').addMethod('POST', integration, {
        ...authorized,
        requestParameters: conversationIdRequired,
        requestModels: { 'application/json': messageModel },
        requestValidator: validator,
      }),
    ];
    if (!authorizer) {
      for (const method of methods) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason:
            'Authorized with IAM (SigV4) instead: callers are IAM principals of the deploying organization; AgentAuthorization.cognito() switches to a user pool.',
        });
      }
    }
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-level logging role is documented with this AWS managed policy; it lets the service write the stage's error and access logs.",
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Callers must sign requests (IAM) or present tokens (Cognito) and the stage is throttled; attach an AWS WAF web ACL to the stage for internet-facing deployments.',
    });
    return api;
  }

  /** API Gateway's own errors (auth, validation, throttling) in the runtime's JSON error shape. */
  private addJsonGatewayResponses(api: apigateway.RestApi): void {
    const body = (code: string, message: string) => JSON.stringify({ error: { code, message } });
    const responses: Array<[string, apigateway.ResponseType, string, string]> = [
      ['BadBody', apigateway.ResponseType.BAD_REQUEST_BODY, 'invalid_request', '$context.error.validationErrorString'],
      ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED, 'unauthenticated', '$context.error.message'],
      ['MissingToken', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, 'not_found', 'no such route, or no credentials'],
      ['Throttled', apigateway.ResponseType.THROTTLED, 'throttled', '$context.error.message'],
      ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, 'request_refused', '$context.error.message'],
      ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, 'gateway_error', '$context.error.message'],
    ];
    for (const [id, type, code, message] of responses) {
      api.addGatewayResponse(id, { type, templates: { 'application/json': body(code, message) }, responseHeaders: { 'x-request-id': 'context.requestId' } });
    }
  }

  private createDomains(recordName: string, zone: route53.IHostedZone): AgentDomains {
    const certificate = new acm.Certificate(this, 'Certificate', {
      domainName: recordName,
      // <jurisdiction>.<name> and <region>.<name>
      subjectAlternativeNames: [`*.${recordName}`],
      validation: acm.CertificateValidation.fromDns(zone),
    });
    const domain = (id: string, domainName: string) => {
      const created = new apigateway.DomainName(this, id, {
        domainName,
        certificate,
        endpointType: apigateway.EndpointType.REGIONAL,
        securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
      });
      created.addBasePathMapping(this.api);
      return created;
    };
    return {
      publicDomain: domain('PublicDomain', recordName),
      jurisdictionDomain: domain('JurisdictionDomain', this.jurisdiction.hostName(recordName)),
      regionalDomain: domain('RegionalDomain', `${this.region}.${recordName}`),
    };
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
