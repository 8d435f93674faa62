/**
 * Tools that are Lambda functions of the jurisdiction: the runtime invokes
 * them synchronously with the model's (validated) input and tells the model
 * what they answer. Each call makes one attempt (a retried invocation could
 * run a tool twice); a function error is the tool's error. The Lambda
 * client is imported at the first call: a runtime without Lambda tools
 * never loads it.
 */
import type { InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { optionalModules } from '../optional-modules';
import { startedAhead } from '../started-ahead';
import type { LambdaToolEvent, LambdaToolSpec } from './asset-layout';
import type { RunnableTool } from './definition';
import { deferredJsonSchemaInput } from './json-schema-input';

export interface LambdaClientSettings {
  connectTimeoutMs: number;
  /** The Lambda API endpoint, for local emulators; the regional endpoint when omitted. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** One Lambda client per region of the tool functions, created once per execution environment. */
export class LambdaClients {
  private readonly clients = new Map<string, LambdaClient>();

  constructor(private readonly settings: LambdaClientSettings) {}

  /** Invokes `functionArn` synchronously with `payload`, once, through its region's client. */
  async invoke(functionArn: string, payload: Uint8Array, abortSignal: AbortSignal): Promise<InvokeCommandOutput> {
    const { InvokeCommand, LambdaClient } = await optionalModules.lambdaClient();
    return this.client(regionOf(functionArn), LambdaClient).send(new InvokeCommand({ FunctionName: functionArn, Payload: payload }), { abortSignal });
  }

  private client(region: string, Client: typeof LambdaClient): LambdaClient {
    let client = this.clients.get(region);
    if (!client) {
      client = new Client({
        region,
        endpoint: this.settings.endpoint,
        credentials: this.settings.credentials,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ connectionTimeout: this.settings.connectTimeoutMs }),
      });
      this.clients.set(region, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

/**
 * The Lambda tools of lambda-tools.json, each bound to its function's ARN.
 * Their input's validator (@cfworker/json-schema) is imported now, beside
 * the cold start, and waited for at the first call: a runtime without
 * Lambda tools never loads it.
 */
export function lambdaTools(specs: readonly LambdaToolSpec[], functionArns: Record<string, string>, clients: LambdaClients): RunnableTool[] {
  const validator = startedAhead(optionalModules.jsonSchemaValidator().then((module) => module.Validator));
  return specs.map((spec) => {
    const arn = functionArns[spec.name];
    if (!arn) throw new Error(`Lambda tool ${spec.name} has no function ARN in AGENT_TOOL_FUNCTIONS`);
    const schema = deferredJsonSchemaInput(spec.inputSchema, validator);
    return {
      name: spec.name,
      description: spec.description,
      inputSchema: schema.jsonSchema,
      timeoutMs: spec.timeoutMs,
      ...(spec.needsApproval ? { needsApproval: true } : {}),
      validate: schema.validate,
      execute: async (input, context) => {
        const event: LambdaToolEvent = {
          tool: spec.name,
          input,
          toolUseId: context.toolCallId,
          conversationId: context.conversationId,
          caller: context.caller,
          ...(context.endUser !== undefined ? { endUser: context.endUser } : {}),
          region: context.region,
        };
        const output = await clients.invoke(arn, Buffer.from(JSON.stringify(event)), context.abortSignal);
        const payload = output.Payload && output.Payload.length > 0 ? (JSON.parse(Buffer.from(output.Payload).toString('utf8')) as unknown) : null;
        if (output.FunctionError)
          throw new Error((payload as { errorMessage?: string } | null)?.errorMessage ?? `the function failed (${output.FunctionError})`);
        return payload;
      },
    };
  });
}

/** arn:aws:lambda:<region>:<account>:function:<name> */
function regionOf(functionArn: string): string {
  const region = functionArn.split(':')[3];
  if (!region) throw new Error(`not a Lambda function ARN: ${functionArn}`);
  return region;
}
