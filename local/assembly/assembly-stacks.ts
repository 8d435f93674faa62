/**
 * The stacks of a synthesized cloud assembly as the local deployment reads
 * them: each template, its account and region, its code assets (from its
 * asset manifest) and a CloudFormation environment whose references resolve
 * to local values: a resource's physical name is the one its template gives,
 * or `<stack>-<logical id>` (CloudFormation would add a random suffix); an
 * ARN is built from that name; an import is the export's value in the stack
 * that exports it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetManifestArtifact, CloudAssembly, type CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { resolveCfn, UnresolvableTokenError, type CfnEnvironment, type CfnReferences } from '../cloudwatch/cfn';
import { LocalDeploymentError } from './errors';

/** The account of stacks that name none (environment-agnostic), as the Lambda emulator's functions are registered. */
const LOCAL_ACCOUNT = '123456789012';

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export interface StackTemplate {
  Resources?: Record<string, TemplateResource>;
  Parameters?: Record<string, { Default?: unknown }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

export interface AssemblyStack {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** The (possibly nested) assembly's directory the stack's files are in. */
  readonly assemblyDirectory: string;
  readonly template: StackTemplate;
  /** Each file asset's directory (or file) in the assembly, by the S3 object key templates name it by. */
  readonly assets: ReadonlyMap<string, string>;
  readonly env: CfnEnvironment;
}

export interface ReadAssembly {
  readonly assembly: CloudAssembly;
  readonly stacks: readonly AssemblyStack[];
}

export function readAssemblyStacks(directory: string): ReadAssembly {
  let assembly: CloudAssembly;
  try {
    assembly = new CloudAssembly(directory);
  } catch (error) {
    throw new LocalDeploymentError(
      'AssemblyUnreadable',
      `no cloud assembly can be read at ${directory} (${(error as Error).message}): run \`npx cdk synth\` in the app's directory first, or let \`agentctl local\` synthesize it (omit --assembly)`,
      { cause: error },
    );
  }
  const stacks: AssemblyStack[] = [];
  for (const artifact of inAppOrder(assembly)) {
    const region = artifact.environment.region;
    const accountId = /^\d{12}$/.test(artifact.environment.account) ? artifact.environment.account : LOCAL_ACCOUNT;
    const stack: AssemblyStack = {
      stackName: artifact.stackName,
      region,
      accountId,
      assemblyDirectory: artifact.assembly.directory,
      template: templateOf(artifact),
      assets: assetsOf(artifact),
      env: { region, accountId, stackName: artifact.stackName, references: { ref: () => undefined, getAtt: () => undefined, importValue: () => undefined } },
    };
    stacks.push(stack);
  }
  // Each stack's references see every stack (for imports), so they are made once all are read.
  return { assembly, stacks: stacks.map((stack) => ({ ...stack, env: { ...stack.env, references: referencesOf(stack, stacks) } })) };
}

/**
 * The stacks in the order the app defines them (its construct tree), so
 * that regions are listed as the app lists them; the manifest's own order
 * is by dependencies.
 */
function inAppOrder(assembly: CloudAssembly): CloudFormationStackArtifact[] {
  const order: string[] = [];
  const visit = (node: { path?: string; children?: Record<string, unknown> }) => {
    if (node.path) order.push(node.path);
    for (const child of Object.values(node.children ?? {})) visit(child as typeof node);
  };
  try {
    const tree = assembly.tree();
    if (tree) visit((JSON.parse(fs.readFileSync(path.join(assembly.directory, tree.file), 'utf8')) as { tree: Parameters<typeof visit>[0] }).tree);
  } catch {
    // No construct tree (an assembly written without one): the manifest's order.
  }
  const rank = (artifact: CloudFormationStackArtifact) => {
    const index = order.indexOf(artifact.hierarchicalId);
    return index < 0 ? order.length : index;
  };
  return [...assembly.stacksRecursively].sort((a, b) => rank(a) - rank(b));
}

/** Resolves a template value in its stack, or fails naming where it is and why it cannot be known locally. */
export function resolveIn(stack: AssemblyStack, value: unknown, where: string): unknown {
  try {
    return resolveCfn(value, stack.env, where);
  } catch (error) {
    if (!(error instanceof UnresolvableTokenError)) throw error;
    throw new LocalDeploymentError(
      'UnresolvableValue',
      `stack ${stack.stackName}: ${error.message}, so it cannot run locally; give that value as a literal in the app (a plain name rather than a reference), or report the construct that makes it`,
      { cause: error },
    );
  }
}

function templateOf(artifact: CloudFormationStackArtifact): StackTemplate {
  try {
    return artifact.template as StackTemplate;
  } catch (error) {
    throw new LocalDeploymentError(
      'StackUnreadable',
      `the template of stack ${artifact.stackName} (${artifact.templateFullPath}) cannot be read: ${(error as Error).message}; synthesize the app again (\`npx cdk synth\`)`,
      { cause: error },
    );
  }
}

interface AssetManifestFile {
  files?: Record<string, { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }>;
}

function assetsOf(artifact: CloudFormationStackArtifact): Map<string, string> {
  const assets = new Map<string, string>();
  for (const manifest of artifact.dependencies.filter((dependency) => dependency instanceof AssetManifestArtifact)) {
    let contents: AssetManifestFile;
    try {
      contents = JSON.parse(fs.readFileSync(manifest.file, 'utf8')) as AssetManifestFile;
    } catch (error) {
      throw new LocalDeploymentError(
        'StackUnreadable',
        `the asset manifest of stack ${artifact.stackName} (${manifest.file}) cannot be read: ${(error as Error).message}; synthesize the app again (\`npx cdk synth\`)`,
        { cause: error },
      );
    }
    for (const asset of Object.values(contents.files ?? {})) {
      if (!asset.source?.path) continue;
      const source = path.resolve(path.dirname(manifest.file), asset.source.path);
      for (const destination of Object.values(asset.destinations ?? {})) if (destination.objectKey) assets.set(destination.objectKey, source);
    }
  }
  return assets;
}

/** The property holding the physical name of the resource types the local deployment names. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::IAM::Role': 'RoleName',
};

function referencesOf(stack: AssemblyStack, stacks: readonly AssemblyStack[]): CfnReferences {
  const resources = stack.template.Resources ?? {};
  const nameOf = (logicalId: string): string | undefined => {
    const resource = resources[logicalId];
    if (!resource) return undefined;
    const given = resource.Properties?.[NAME_PROPERTY[resource.Type] ?? ''];
    return given !== undefined ? String(resolveCfn(given, stack.env, logicalId)) : `${stack.stackName}-${logicalId}`.slice(0, 64);
  };
  const arnOf = (logicalId: string): string | undefined => {
    const name = nameOf(logicalId);
    if (name === undefined) return undefined;
    const { region, accountId } = stack;
    switch (resources[logicalId].Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${accountId}:role/${name}`;
      default:
        return undefined;
    }
  };
  return {
    ref: (logicalId) => {
      const parameter = stack.template.Parameters?.[logicalId];
      if (parameter) return parameter.Default;
      // A secret's Ref is its ARN; other resources' Ref is their physical name.
      return resources[logicalId]?.Type === 'AWS::SecretsManager::Secret' ? arnOf(logicalId) : nameOf(logicalId);
    },
    getAtt: (logicalId, attribute) => {
      if (attribute === 'Arn') return arnOf(logicalId);
      // A function URL's address, as Lambda makes one (the playground serves the function on loopback in its place).
      if (attribute === 'FunctionUrl' && resources[logicalId]?.Type === 'AWS::Lambda::Url') return functionUrlOf(logicalId, stack.region);
      return attribute === NAME_PROPERTY[resources[logicalId]?.Type ?? ''] ? nameOf(logicalId) : undefined;
    },
    importValue: (exportName) => {
      for (const exporter of stacks) {
        for (const output of Object.values(exporter.template.Outputs ?? {})) {
          if (output.Export && resolveCfn(output.Export.Name, exporter.env) === exportName) return resolveCfn(output.Value, referencing(exporter, stacks));
        }
      }
      return undefined;
    },
  };
}

/** A placeholder of a function URL's address, the same wherever the assembly refers to it. */
export function functionUrlOf(logicalId: string, region: string): string {
  return `https://${logicalId.toLowerCase()}.lambda-url.${region}.on.aws/`;
}

/** The stack's environment with its references (an exporter's, while the stacks' references are being made). */
function referencing(stack: AssemblyStack, stacks: readonly AssemblyStack[]): CfnEnvironment {
  return { ...stack.env, references: referencesOf(stack, stacks) };
}
