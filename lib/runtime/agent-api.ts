import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MultiRegionAgentError } from '../errors';
import type { Jurisdiction } from '../governance/jurisdiction';
import { LogEncryption } from '../governance/log-encryption';

/** The path Route 53's health checks request. */
const HEALTH_PATH = 'health';

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

  private constructor(
    /** The user pool whose ID tokens authorize callers; undefined for IAM authorization. */
    readonly userPool: cognito.IUserPool | undefined,
  ) {}
}

/** A token bucket of API Gateway: steady requests per second and burst. */
export interface AgentThrottling {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests that may arrive at once above the steady rate. */
  readonly burstLimit: number;
}

/** Properties of an {@link AgentApi}: the runtime it fronts, and how it authorizes and throttles callers. */
export interface AgentApiProps {
  /** The agent runtime's function, behind every agent route. */
  readonly handler: lambda.IFunction;
  /** The jurisdiction of the region: named in the API's description. */
  readonly jurisdiction: Jurisdiction;
  /**
   * Timeout of the streaming integration; it bounds one streamed answer.
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;
  /** How callers are authorized: IAM (SigV4) or a Cognito user pool's ID tokens. @default AgentAuthorization.iam() */
  readonly authorization?: AgentAuthorization;
  /**
   * Throttling of the agent routes (the stage's default for each method).
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly throttling?: AgentThrottling;
  /**
   * Throttling of `GET` and `HEAD /health`, a bucket of their own so that a
   * load spike on the agent routes never throttles Route 53's health checkers
   * (about one request per second per health check).
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly healthThrottling?: AgentThrottling;
  /**
   * Turn off the execute-api URL, so that clients use the custom domains (whose routing it would bypass).
   * @default false
   */
  readonly disableExecuteApiEndpoint?: boolean;
  /**
   * Create the role API Gateway writes its logs with, and register it for the
   * account and region (AWS::ApiGateway::Account).
   * @default true
   */
  readonly manageApiGatewayAccount?: boolean;
  /**
   * How long the access log group keeps its records. A year is what AWS
   * Control Tower's proactive control CT.CLOUDWATCH.PR.2 asks for.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How the access log group is encrypted at rest.
   * @default LogEncryption.kms() - a new KMS key (`LogKey`) for this API's access logs
   */
  readonly logEncryption?: LogEncryption;
  /**
   * AWS X-Ray tracing of the stage (CT.APIGATEWAY.PR.2): API Gateway samples
   * requests (by default the first each second and 5% of the others) and
   * records its own segment, with the integration's latency. The function's
   * own segments need its tracing too (not turned on here: see docs/security.md).
   * @default true
   */
  readonly tracing?: boolean;
}

/**
 * One region's REST API in front of the agent runtime: response streaming
 * from Lambda, IAM or Cognito authorization, request validation, access logs
 * (no bodies), throttling, API Gateway's own errors in the runtime's JSON
 * error shape, and an unauthenticated `GET`/`HEAD /health` for Route 53,
 * answered by API Gateway itself with its own throttle.
 */
export class AgentApi extends Construct {
  /** The REST API itself. */
  readonly api: apigateway.RestApi;
  /** The routes that run the agent (every method but `/health`). */
  readonly agentMethods: readonly apigateway.Method[];
  private readonly authorization: AgentAuthorization;

  constructor(scope: Construct, id: string, props: AgentApiProps) {
    super(scope, id);
    this.authorization = props.authorization ?? AgentAuthorization.iam();
    const stack = Stack.of(this);
    const throttling = props.throttling ?? { rateLimit: 50, burstLimit: 100 };
    assertThrottling(this, 'throttling', throttling);
    const healthThrottling = props.healthThrottling ?? { rateLimit: 10, burstLimit: 20 };
    assertThrottling(this, 'healthThrottling', healthThrottling);
    const logging = { loggingLevel: apigateway.MethodLoggingLevel.ERROR, dataTraceEnabled: false, metricsEnabled: true };
    const healthMethodOptions: apigateway.MethodDeploymentOptions = {
      ...logging,
      throttlingRateLimit: healthThrottling.rateLimit,
      throttlingBurstLimit: healthThrottling.burstLimit,
    };
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: (props.logEncryption ?? LogEncryption.kms()).keyFor(this, 'LogKey'),
    });
    // 'Default' keeps the API's logical ids what they were when AgentRuntime created it directly.
    this.api = new apigateway.RestApi(this, 'Default', {
      restApiName: `${stack.stackName}-agent`,
      description: `Multi-region agent API (${props.jurisdiction.name}, ${stack.region})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      disableExecuteApiEndpoint: props.disableExecuteApiEndpoint ?? false,
      cloudWatchRole: props.manageApiGatewayAccount ?? true,
      deployOptions: {
        stageName: 'prod',
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        // Execution logs would otherwise carry request bodies, i.e. message text.
        ...logging,
        tracingEnabled: props.tracing ?? true,
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
        // The stage's limits apply to each method; /health's own settings replace them for its methods.
        methodOptions: { [`/${HEALTH_PATH}/GET`]: healthMethodOptions, [`/${HEALTH_PATH}/HEAD`]: healthMethodOptions },
      },
    });
    this.addJsonGatewayResponses();

    const integration = new apigateway.LambdaIntegration(props.handler, {
      proxy: true,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      timeout: props.timeout ?? Duration.minutes(2),
      // One permission for the API rather than one per method and test invocation.
      scopePermissionToMethod: false,
    });
    const authorizer = props.authorization?.userPool
      ? new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [props.authorization.userPool] })
      : undefined;
    const authorized: apigateway.MethodOptions = authorizer
      ? { authorizer, authorizationType: apigateway.AuthorizationType.COGNITO }
      : { authorizationType: apigateway.AuthorizationType.IAM };

    const messageModel = this.api.addModel('MessageModel', {
      contentType: 'application/json',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        type: apigateway.JsonSchemaType.OBJECT,
        required: ['text'],
        additionalProperties: false,
        properties: { text: { type: apigateway.JsonSchemaType.STRING, minLength: 1 } },
      },
    });
    // Either answer: approve, or deny with an optional reason (the runtime checks the same, and answers 400).
    const approvalModel = this.api.addModel('ApprovalModel', {
      contentType: 'application/json',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        type: apigateway.JsonSchemaType.OBJECT,
        required: ['approved'],
        additionalProperties: false,
        properties: { approved: { type: apigateway.JsonSchemaType.BOOLEAN }, reason: { type: apigateway.JsonSchemaType.STRING, maxLength: 1000 } },
      },
    });
    const validator = this.api.addRequestValidator('RequestValidator', { validateRequestBody: true, validateRequestParameters: true });
    const conversationIdRequired = { 'method.request.path.conversationId': true };

    this.addHealthRoute(props.jurisdiction);
    const v1 = this.api.root.addResource('v1');
    const conversations = v1.addResource('conversations');
    const conversation = conversations.addResource('{conversationId}');
    const readConversation: apigateway.MethodOptions = { ...authorized, requestParameters: conversationIdRequired, requestValidator: validator };
    const listConversations: apigateway.MethodOptions = {
      ...authorized,
      // Optional: the runtime checks their values (400 invalid_limit, invalid_cursor).
      requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.cursor': false },
      requestValidator: validator,
    };
    // Proxy integrations pass every header on, and the validator checks only the parameters declared
    // required: the optional Idempotency-Key header of POST .../messages reaches the runtime as is.
    this.agentMethods = [
      // The server mints the conversation id (with its jurisdiction prefix); the request has no body.
      conversations.addMethod('POST', integration, authorized),
      conversation.addMethod('GET', integration, readConversation),
      // HEAD answers like GET, headers only (a client checking that a conversation exists).
      conversation.addMethod('HEAD', integration, readConversation),
      conversation.addResource('messages').addMethod('POST', integration, {
        ...authorized,
        requestParameters: conversationIdRequired,
        requestModels: { 'application/json': messageModel },
        requestValidator: validator,
      }),
      // The owner's conversations: list, delete one, erase all, export (see docs/http-api.md, Conversations of an owner).
      conversations.addMethod('GET', integration, listConversations),
      conversation.addMethod('DELETE', integration, readConversation),
      conversations.addMethod('DELETE', integration, authorized),
      v1.addResource('export').addMethod('GET', integration, authorized),
      // The owner's answer to a tool call that waits for approval: it resumes the answer, streamed like a message's (docs/http-api.md, Approvals).
      conversation
        .addResource('approvals')
        .addResource('{toolUseId}')
        .addMethod('POST', integration, {
          ...authorized,
          requestParameters: { ...conversationIdRequired, 'method.request.path.toolUseId': true },
          requestModels: { 'application/json': approvalModel },
          requestValidator: validator,
        }),
    ];
    this.restrictInvokePermissionToAccount();
    if (!authorizer) {
      for (const method of this.agentMethods) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason:
            'Authorized with IAM (SigV4) instead: callers are IAM principals of the deploying organization; AgentAuthorization.cognito() switches to a user pool.',
        });
      }
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-level logging role is documented with this AWS managed policy; it lets the service write the stage's error and access logs.",
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Callers must sign requests (IAM) or present tokens (Cognito) and the stage is throttled; attach an AWS WAF web ACL to the stage for internet-facing deployments.',
    });
  }

  /** Whether the API authorizes with IAM (SigV4), not a Cognito user pool. */
  get iamAuthorized(): boolean {
    return this.authorization.userPool === undefined;
  }

  /**
   * Lets an IAM principal call the agent's routes of this API's stage
   * (`execute-api:Invoke` on exactly those methods; `/health` needs no grant).
   * Only meaningful with `AgentAuthorization.iam()`.
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: this.agentMethods.map((method) => method.methodArn),
    });
  }

  /**
   * The permission `LambdaIntegration` gives API Gateway to invoke the
   * function names the API by `SourceArn` (an ARN built in the template);
   * `SourceAccount` adds the account as a plain value, which is what
   * CT.LAMBDA.PR.2 checks for a service principal, and what keeps another
   * account's API of the same id from invoking the function.
   */
  private restrictInvokePermissionToAccount(): void {
    const account = Stack.of(this).account;
    for (const child of this.api.node.children) {
      if (child instanceof lambda.CfnPermission && child.principal === 'apigateway.amazonaws.com') child.sourceAccount = account;
    }
  }

  /**
   * `GET` and `HEAD /health`, answered by API Gateway itself (a MOCK
   * integration): no Lambda concurrency or agent-route throttle to compete
   * for, so a load spike cannot make Route 53 see the region as unhealthy.
   * Route 53 thus checks the region's front door (DNS, certificate, API
   * Gateway); the runtime's own failures reach DNS through the fallback-rate
   * alarm (`AgentRouting`'s `alarm`).
   */
  private addHealthRoute(jurisdiction: Jurisdiction): void {
    const region = Stack.of(this).region;
    const integration = new apigateway.MockIntegration({
      // A mock integration answers with the status code its request template names.
      requestTemplates: { 'application/json': JSON.stringify({ statusCode: 200 }) },
      // Checkers send no body; anything but JSON (or no content type) is refused rather than passed to the mock.
      passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
      integrationResponses: [
        { statusCode: '200', responseTemplates: { 'application/json': JSON.stringify({ status: 'ok', region, jurisdiction: jurisdiction.name }) } },
      ],
    });
    const health = this.api.root.addResource(HEALTH_PATH);
    for (const httpMethod of ['GET', 'HEAD']) {
      // Route 53 health checks cannot sign requests; the answer reveals only the region and jurisdiction.
      const method = health.addMethod(httpMethod, integration, {
        authorizationType: apigateway.AuthorizationType.NONE,
        methodResponses: [{ statusCode: '200' }],
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${httpMethod} /health serves Route 53 health checkers, which cannot authenticate; it returns only the region and jurisdiction names.`,
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: `${httpMethod} /health serves Route 53 health checkers, which cannot present Cognito tokens.`,
      });
    }
  }

  /**
   * API Gateway's own errors (auth, validation, throttling) in the runtime's
   * JSON error shape. Their messages are fixed: gateway response templates
   * are not run by VTL (no `$util.escapeJavaScript`), only plain variable
   * substitution, and the variables with detail (`$context.error.message`,
   * `validationErrorString`) hold quotes and newlines that would break the
   * JSON. The request id goes out in `x-request-id`.
   */
  private addJsonGatewayResponses(): void {
    const body = (code: string, message: string) => JSON.stringify({ error: { code, message } });
    const responses: Array<[string, apigateway.ResponseType, string, string]> = [
      ['BadBody', apigateway.ResponseType.BAD_REQUEST_BODY, 'invalid_request', 'the body must be {"text": "..."}: a non-empty string, no other field'],
      ['BadParameters', apigateway.ResponseType.BAD_REQUEST_PARAMETERS, 'invalid_request', 'a required path parameter is missing or empty'],
      ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED, 'unauthenticated', 'missing or invalid credentials'],
      ['MissingToken', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, 'not_found', 'no such route, or no credentials'],
      ['InvalidSignature', apigateway.ResponseType.INVALID_SIGNATURE, 'unauthenticated', 'the signature does not match; check the key, region and service'],
      ['ExpiredToken', apigateway.ResponseType.EXPIRED_TOKEN, 'unauthenticated', 'the credentials have expired; sign again with fresh ones'],
      ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED, 'forbidden', 'the caller is not allowed to call this route'],
      ['TooLarge', apigateway.ResponseType.REQUEST_TOO_LARGE, 'too_large', 'the request is larger than API Gateway accepts'],
      ['Throttled', apigateway.ResponseType.THROTTLED, 'throttled', 'too many requests to this region; retry after a short wait'],
      ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, 'request_refused', 'API Gateway refused the request'],
      ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, 'gateway_error', 'API Gateway could not complete the request; retry'],
    ];
    for (const [id, type, code, message] of responses) {
      this.api.addGatewayResponse(id, {
        type,
        templates: { 'application/json': body(code, message) },
        responseHeaders: { 'x-request-id': 'context.requestId' },
      });
    }
  }
}

/** Refuses a token bucket API Gateway would reject, or one that lets nothing through. */
export function assertThrottling(scope: Construct, prop: string, throttling: AgentThrottling): void {
  const { rateLimit, burstLimit } = throttling;
  if (!Number.isFinite(rateLimit) || rateLimit <= 0 || !Number.isInteger(burstLimit) || burstLimit < 1) {
    throw new MultiRegionAgentError(
      'InvalidThrottling',
      `${prop}: rateLimit must be a positive number and burstLimit a positive integer, got { rateLimit: ${rateLimit}, burstLimit: ${burstLimit} }`,
      scope,
    );
  }
}
