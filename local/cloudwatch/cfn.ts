/**
 * The CloudFormation intrinsics a synthesized template holds, resolved as
 * CloudFormation would in a given stack: `Fn::Join`, `Fn::Sub`,
 * `Fn::Select`, `Fn::Split`, and `Ref` of the pseudo parameters
 * AWS::Region, AWS::AccountId, AWS::Partition, AWS::URLSuffix and
 * AWS::StackName. References to resources (`Ref`, `Fn::GetAtt`) and other
 * stacks' exports (`Fn::ImportValue`) resolve only through the
 * `references` an environment is given (the local deployment's names for
 * them); anything else cannot be known before deployment and is an error
 * that names it.
 */

export interface CfnEnvironment {
  readonly region: string;
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'amazonaws.com' */
  readonly urlSuffix?: string;
  readonly stackName?: string;
  /** @default - resources and exports cannot be referenced */
  readonly references?: CfnReferences;
}

/** Local values of a stack's resources and of the assembly's exports; each answers undefined for what it does not know. */
export interface CfnReferences {
  ref(logicalId: string): unknown;
  getAtt(logicalId: string, attribute: string): unknown;
  importValue(exportName: string): unknown;
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
      return reference(String(argument), env, path);
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(argument) ? (argument as string[]) : String(argument).split(/\.(.*)/s);
      return known(env.references?.getAtt(logicalId, String(resolveCfn(attribute, env, path))), `${path}: Fn::GetAtt ${logicalId}.${attribute}`);
    }
    case 'Fn::ImportValue': {
      const name = String(resolveCfn(argument, env, path));
      return known(env.references?.importValue(name), `${path}: Fn::ImportValue ${name} (no stack of the assembly exports it)`);
    }
    case 'Fn::Join': {
      const [separator, parts] = argument as [string, unknown[]];
      return (resolveCfn(parts, env, path) as unknown[]).map((part) => String(part)).join(separator);
    }
    case 'Fn::Select': {
      const [index, list] = argument as [unknown, unknown];
      return (resolveCfn(list, env, path) as unknown[])[Number(resolveCfn(index, env, path))];
    }
    case 'Fn::Split': {
      const [separator, text] = argument as [string, unknown];
      return String(resolveCfn(text, env, path)).split(separator);
    }
    case 'Fn::Sub':
      return substitute(argument, env, path);
    default:
      throw new UnresolvableTokenError(`${path}: ${intrinsic} cannot be resolved before deployment`);
  }
}

/** `Fn::Sub`: `${Name}` is a variable, a pseudo parameter or a resource, `${Name.Attribute}` a resource's attribute, `${!Literal}` literal. */
function substitute(argument: unknown, env: CfnEnvironment, path: string): string {
  const [template, variables] = Array.isArray(argument) ? (argument as [string, Record<string, unknown>]) : [String(argument), {}];
  return template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in variables) return String(resolveCfn(variables[name], env, `${path}.${name}`));
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) return String(resolveIntrinsic('Fn::GetAtt', [name.slice(0, dot), name.slice(dot + 1)], env, path));
    return String(reference(name, env, path));
  });
}

function reference(name: string, env: CfnEnvironment, path: string): unknown {
  if (name.startsWith('AWS::')) return pseudoParameter(name, env, path);
  return known(env.references?.ref(name), `${path}: Ref ${name}`);
}

function known(value: unknown, what: string): unknown {
  if (value === undefined) throw new UnresolvableTokenError(`${what} cannot be resolved before deployment`);
  return value;
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
