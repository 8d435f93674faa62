/**
 * A Secrets Manager emulator for the outside providers' keys: CreateSecret,
 * PutSecretValue and GetSecretValue over the awsJson1.1 protocol the real
 * @aws-sdk/client-secrets-manager speaks, with its error types
 * (`ResourceNotFoundException` for a missing secret, and for a secret with no
 * value yet, as the service answers one created empty). It counts reads, so
 * tests can see the runtime's cache at work.
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { listen } from './listen';

interface StoredSecret {
  name: string;
  arn: string;
  value?: string;
  versionId?: string;
}

class SecretsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class SecretsManagerEmulator {
  static async start(options: { region: string; host?: string; port?: number }): Promise<SecretsManagerEmulator> {
    const emulator = new SecretsManagerEmulator(options.region);
    emulator.endpoint = await listen(emulator.server, options.port ?? 0, options.host ?? '127.0.0.1');
    return emulator;
  }

  endpoint = '';
  /** GetSecretValue calls, by secret name. */
  readonly reads = new Map<string, number>();
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly server = http.createServer((request, response) => void this.handle(request, response));

  private constructor(private readonly region: string) {}

  /** Creates a secret (empty when `value` is omitted, as the constructs create them) and returns its ARN. */
  create(name: string, value?: string): string {
    const arn = `arn:aws:secretsmanager:${this.region}:000000000000:secret:${name}-${randomUUID().slice(0, 6)}`;
    this.secrets.set(name, { name, arn, ...(value !== undefined ? { value, versionId: randomUUID() } : {}) });
    return arn;
  }

  put(secretId: string, value: string): void {
    const secret = this.find(secretId);
    secret.value = value;
    secret.versionId = randomUUID();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private find(secretId: string): StoredSecret {
    const secret = [...this.secrets.values()].find((candidate) => candidate.name === secretId || candidate.arn === secretId);
    if (!secret) throw new SecretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Name?: string; SecretId?: string; SecretString?: string };
      const result = JSON.stringify(this.operation(target, body));
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(result);
    } catch (error) {
      const failure = error instanceof SecretsError ? error : new SecretsError('InvalidRequestException', (error as Error).message);
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ __type: failure.type, message: failure.message }));
    }
  }

  private operation(target: string, body: { Name?: string; SecretId?: string; SecretString?: string }): unknown {
    switch (target) {
      case 'secretsmanager.CreateSecret': {
        const arn = this.create(body.Name ?? '', body.SecretString);
        return { ARN: arn, Name: body.Name };
      }
      case 'secretsmanager.PutSecretValue': {
        this.put(body.SecretId ?? '', body.SecretString ?? '');
        const secret = this.find(body.SecretId ?? '');
        return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'] };
      }
      case 'secretsmanager.GetSecretValue': {
        const secret = this.find(body.SecretId ?? '');
        this.reads.set(secret.name, (this.reads.get(secret.name) ?? 0) + 1);
        if (secret.value === undefined) {
          throw new SecretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
        }
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: secret.versionId,
          SecretString: secret.value,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
        };
      }
      default:
        throw new SecretsError('UnknownOperationException', `operation ${target} is not emulated`);
    }
  }
}
