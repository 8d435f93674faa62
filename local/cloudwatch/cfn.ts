/**
 * The few CloudFormation intrinsics a synthesized dashboard or alarm holds,
 * resolved as CloudFormation would in a given stack: `Fn::Join`, `Fn::Sub`
 * over pseudo parameters, and `Ref` of the pseudo parameters AWS::Region,
 * AWS::AccountId, AWS::Partition, AWS::URLSuffix and AWS::StackName.
 * Anything else (a reference to a resource, say) cannot be known before
 * deployment and is an error that names it.
 */

export interface CfnEnvironment {
  readonly region: string;
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'amazonaws.com' */
  readonly urlSuffix?: string;
  readonly stackName?: string;
}

export class UnresolvableTokenError extends Error {}

export function resolveCfn(value: unknown, env: CfnEnvironment, path = '$'): unknown {
  if (Array.isArray(value)) return value.map((item, index) => resolveCfn(item, env, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [intrinsic, argument] = entries[0] ?? [];
  if (entries.length === 1 && (intrinsic === 'Ref' || intrinsic.startsWith('Fn::'))) return resolveIntrinsic(intrinsic, argument, env, path);
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveCfn(item, env, `${path}.${key}`)]));
}

function resolveIntrinsic(intrinsic: string, argument: unknown, env: CfnEnvironment, path: string): unknown {
  switch (intrinsic) {
    case 'Ref':
      return pseudoParameter(String(argument), env, path);
    case 'Fn::Join': {
      const [separator, parts] = argument as [string, unknown[]];
      return (resolveCfn(parts, env, path) as unknown[]).map((part) => String(part)).join(separator);
    }
    case 'Fn::Sub': {
      if (typeof argument !== 'string') throw new UnresolvableTokenError(`${path}: Fn::Sub with variables cannot be resolved locally`);
      return argument.replace(/\$\{([^}!]+)\}/g, (_, name: string) => String(pseudoParameter(name, env, path)));
    }
    default:
      throw new UnresolvableTokenError(`${path}: ${intrinsic} cannot be resolved before deployment`);
  }
}

function pseudoParameter(name: string, env: CfnEnvironment, path: string): string {
  const values: Record<string, string | undefined> = {
    'AWS::Region': env.region,
    'AWS::AccountId': env.accountId,
    'AWS::Partition': env.partition ?? 'aws',
    'AWS::URLSuffix': env.urlSuffix ?? 'amazonaws.com',
    'AWS::StackName': env.stackName,
  };
  const value = values[name];
  if (value === undefined) throw new UnresolvableTokenError(`${path}: Ref ${name} is not a pseudo parameter known before deployment`);
  return value;
}
