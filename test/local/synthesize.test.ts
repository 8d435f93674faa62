/**
 * How `agentctl local` runs an app's command: with the cloud assembly's
 * directory and the context, and without aws-cdk-lib's built-in template
 * validation unless the app makes its findings errors or the caller asks
 * for it. The app here records the environment it was given.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthesizeApp } from '../../local/synthesize';

/** An app directory whose app writes the variables it was given to seen.json (and no assembly). */
function recordingApp(context: Record<string, unknown> = {}): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'local-synthesize-'));
  const record =
    "require('fs').writeFileSync('seen.json', JSON.stringify({ validation: process.env.CDK_VALIDATION ?? null, outdir: process.env.CDK_OUTDIR, context: JSON.parse(process.env.CDK_CONTEXT_JSON) }))";
  fs.writeFileSync(path.join(directory, 'app.js'), record);
  fs.writeFileSync(path.join(directory, 'cdk.json'), JSON.stringify({ app: 'node app.js', context }));
  return directory;
}

async function seenBy(directory: string): Promise<{ validation: string | null; outdir: string; context: Record<string, unknown> }> {
  await synthesizeApp({ appDirectory: directory, outdir: path.join(directory, 'cdk.out') });
  return JSON.parse(fs.readFileSync(path.join(directory, 'seen.json'), 'utf8')) as {
    validation: string | null;
    outdir: string;
    context: Record<string, unknown>;
  };
}

const directories: string[] = [];
const app = (context?: Record<string, unknown>) => {
  const directory = recordingApp(context);
  directories.push(directory);
  return directory;
};
const callerValidation = process.env.CDK_VALIDATION;

afterEach(() => {
  if (callerValidation === undefined) delete process.env.CDK_VALIDATION;
  else process.env.CDK_VALIDATION = callerValidation;
});

afterAll(() => {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
});

test("the app runs without the built-in CloudFormation validation, with the output directory and cdk.json's context", async () => {
  delete process.env.CDK_VALIDATION;
  const directory = app({ stage: 'dev' });

  const seen = await seenBy(directory);

  expect(seen).toEqual({ validation: 'false', outdir: path.join(directory, 'cdk.out'), context: { stage: 'dev' } });
});

test.each([true, 'true'])('an app whose context makes validation findings errors (%p) is validated', async (strict) => {
  delete process.env.CDK_VALIDATION;

  const seen = await seenBy(app({ '@aws-cdk/core:validateAgainstDefaultRules': strict }));

  expect(seen.validation).toBeNull();
});

test('a caller that sets CDK_VALIDATION keeps its choice', async () => {
  process.env.CDK_VALIDATION = 'true';

  const seen = await seenBy(app());

  expect(seen.validation).toBe('true');
});
