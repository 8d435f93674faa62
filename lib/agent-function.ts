import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONFIG_ENV_VAR, type RuntimeConfigInput } from '../lambda/agent/config';
import type { Jurisdiction } from './jurisdiction';
import { stageDirectory } from './code-staging';
import { PREBUNDLED_FILE, RUNTIME_HANDLER, runtimeHandler } from './runtime-bundle';

export interface AgentFunctionProps {
  /** The jurisdiction of the region: named in the role's and the function's descriptions. */
  readonly jurisdiction: Jurisdiction;
  /** The region the function runs in: named in the descriptions. */
  readonly region: string;
  /** The runtime's configuration, given to the function as `AGENT_CONFIG` (validated by the caller). */
  readonly runtimeConfig: RuntimeConfigInput;
  /**
   * Memory of the function. Answers are I/O-bound; 1024 MB buys the CPU that
   * keeps cold starts and SDK (de)serialization short.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Function timeout; it bounds one streamed answer.
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;
  /**
   * Concurrent executions reserved for the function.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How long the function's log group keeps its records.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The agent runtime's Lambda function: Node.js 24 on arm64, the runtime's
 * handler (bundled here by esbuild, or prebundled in the published package)
 * in a code asset of its own, its own log group, and a role that may write
 * only to that log group. Other grants (Bedrock, the table) are added by
 * whoever composes it.
 */
export class AgentFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  /**
   * The directory the function's code asset is made of: the runtime's
   * handler (`index.mjs`) and the agent's files beside it. Without the
   * handler in a stack whose bundling is skipped.
   */
  readonly codeDirectory: string;

  constructor(scope: Construct, id: string, props: AgentFunctionProps) {
    super(scope, id);
    const where = `${props.jurisdiction.name}, ${props.region}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    // Our own role: writing to its one log group, instead of the managed basic-execution policy for every group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Agent runtime (${where})`,
      inlinePolicies: {
        Logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] })],
        }),
      },
    });
    // Stacks whose bundling is skipped (`aws:cdk:bundling-stacks`) are not deployed: their asset goes without the handler.
    const files: Record<string, Uint8Array> = Stack.of(this).bundlingRequired ? { [PREBUNDLED_FILE]: runtimeHandler() } : {};
    this.codeDirectory = stageDirectory(files);
    // 'Default' keeps the function's logical id what it was when AgentRuntime created it directly.
    this.function = new lambda.Function(this, 'Default', {
      role: this.role,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(2),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup: this.logGroup,
      environment: { [CONFIG_ENV_VAR]: JSON.stringify(props.runtimeConfig) },
      description: `Multi-region agent runtime (${where})`,
      code: lambda.Code.fromAsset(this.codeDirectory),
      handler: RUNTIME_HANDLER,
    });
  }
}
