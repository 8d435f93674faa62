/**
 * How the client authorizes its requests, as the deployment's API expects:
 * SigV4 for IAM authorization (the default), a Cognito user pool token, or
 * a header of your own (a gateway or proxy in front).
 *
 * SigV4 signs with aws4fetch (a few KB, no dependencies, WebCrypto: the
 * same code in browsers and Node 20), loaded only when a request is
 * signed, so that a browser bundle using tokens carries no signer. In
 * Node, without explicit credentials, the AWS SDK's default provider chain
 * (`@aws-sdk/credential-provider-node`, an optional peer dependency) finds
 * them, also loaded only then.
 */
import { AgentClientError } from './errors';

/** AWS credentials, as the AWS SDK's providers return them. */
export interface AwsCredentials {
  /** The access key id. */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token of temporary credentials. */
  sessionToken?: string;
}

/** A request about to be sent: authorization adds its headers. */
export interface OutgoingRequest {
  /** The HTTP method. */
  method: string;
  /** The full URL. */
  url: string;
  /** The headers so far, lower-case names. */
  headers: Record<string, string>;
  /** The body, when there is one (SigV4 signs it). */
  body?: string;
}

/** How a request is authorized; build one with `AgentAuth.sigv4()`, `.cognito()`, `.header()` or `.none()`. */
export interface AgentAuth {
  /** True when a signature names a region (SigV4): the client then learns the region before sending to a latency-routed name. */
  readonly signsForRegion: boolean;
  /** The request's headers, authorized. `region` is the signing region (SigV4 only). */
  authorize(request: OutgoingRequest, region?: string): Promise<Record<string, string>>;
}

type Value = string | (() => string | Promise<string>);

const NODE_CHAIN =
  "the AWS SDK's default chain in Node (environment variables, SSO and shared config/credentials files, process credentials, web identity token, ECS container credentials, EC2 instance metadata)";

/** The ways the client can authorize its requests: each makes an {@link AgentAuth}. */
export const AgentAuth = {
  /**
   * SigV4 for the API's IAM authorization (service `execute-api`).
   * @param credentials - fixed credentials or a provider (e.g. `fromCognitoIdentityPool(...)` in a browser)
   *   @default - Node: the AWS SDK's default provider chain; a browser must pass them
   */
  sigv4(credentials?: AwsCredentials | (() => Promise<AwsCredentials>)): AgentAuth {
    let provider: (() => Promise<AwsCredentials>) | undefined = typeof credentials === 'function' ? credentials : credentials && (async () => credentials);
    return {
      signsForRegion: true,
      async authorize(request, region) {
        if (!region) throw new AgentClientError('missing_region', `SigV4 needs the region of ${request.url}`);
        provider ??= await nodeChain();
        const resolved = await provider().catch((error: unknown) => {
          throw new AgentClientError('missing_credentials', `no AWS credentials to sign with: tried ${credentials ? 'the credentials given' : NODE_CHAIN}`, {
            cause: error,
          });
        });
        const { AwsV4Signer } = await import('aws4fetch');
        const signer = new AwsV4Signer({ ...request, ...resolved, service: 'execute-api', region });
        const signed = await signer.sign();
        return Object.fromEntries(signed.headers.entries());
      },
    };
  },

  /** A Cognito user pool token (the ID token), sent raw in `Authorization` as API Gateway's Cognito authorizer reads it. */
  cognito(token: Value): AgentAuth {
    return AgentAuth.header('authorization', token);
  },

  /** A header of your own, e.g. a key a proxy in front checks. */
  header(name: string, value: Value): AgentAuth {
    return {
      signsForRegion: false,
      async authorize(request) {
        return { ...request.headers, [name.toLowerCase()]: typeof value === 'function' ? await value() : value };
      },
    };
  },

  /** No authorization (the local playground). */
  none(): AgentAuth {
    return { signsForRegion: false, authorize: async (request) => request.headers };
  },
};

/** The Node default chain, loaded on first use; a clear error where it cannot be (a browser, or the package not installed). */
async function nodeChain(): Promise<() => Promise<AwsCredentials>> {
  const packageName = '@aws-sdk/credential-provider-node';
  try {
    const { defaultProvider } = (await import(packageName)) as { defaultProvider: () => () => Promise<AwsCredentials> };
    return defaultProvider();
  } catch (error) {
    throw new AgentClientError(
      'missing_credentials',
      `no AWS credentials to sign with: pass them to AgentAuth.sigv4(), or install ${packageName} for ${NODE_CHAIN}`,
      { cause: error },
    );
  }
}
