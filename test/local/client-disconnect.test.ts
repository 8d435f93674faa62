/**
 * Clients that leave early must not take a local server down: the Lambda
 * host, in a process of its own as it runs for real, with clients that hang
 * up mid-upload and mid-stream (`npm run local` gets the same in
 * test/docs/front-door.test.ts, which runs it as README writes it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hangUpMidUpload } from './hang-up';

const LOCAL = path.join(__dirname, '..', '..', 'local');

interface Started {
  child: ChildProcess;
  url: string;
  stdout: () => string;
}

/** Runs a local entry point in its own process until it prints its URL. */
async function start(script: string, args: string[], env: Record<string, string>, urlPattern: RegExp): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(LOCAL, script), ...args], {
    env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += String(chunk);
      const match = urlPattern.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.stderr!.resume();
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, url, stdout: () => stdout };
}

async function stop({ child }: Started): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill();
  });
}

describe('the Lambda host', () => {
  let dir: string;
  let host: Started;

  beforeAll(async () => {
    // A streaming handler that writes until its response stream closes, and says when it was told.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-host-'));
    const bundle = path.join(dir, 'index.mjs');
    fs.writeFileSync(
      bundle,
      `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'text/plain' } });
  if (event.path !== '/forever') return stream.end('ok');
  await new Promise((resolve) => {
    const timer = setInterval(() => stream.write('tick\\n'), 10);
    responseStream.on('close', () => {
      clearInterval(timer);
      process.stdout.write('HANDLER_SAW_CLOSE\\n');
      resolve();
    });
  });
});
`,
    );
    host = await start('lambda-host.ts', [bundle], {}, /LAMBDA_HOST_URL=(\S+)/);
  }, 60_000);

  afterAll(async () => {
    await stop(host);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('keeps serving after a client hangs up mid-upload', async () => {
    await hangUpMidUpload(host.url, '/upload');

    expect(host.child.exitCode).toBeNull();
    expect(await (await fetch(`${host.url}/once`)).text()).toBe('ok');
  });

  test('a client leaving mid-stream closes the handler’s response stream and the host keeps serving', async () => {
    const aborted = new AbortController();
    const response = await fetch(`${host.url}/forever`, { signal: aborted.signal });
    const reader = response.body!.getReader();
    await reader.read();

    aborted.abort();
    // The handler hears the close within moments; a loaded machine gets up to 5 s.
    for (const deadline = Date.now() + 5_000; !host.stdout().includes('HANDLER_SAW_CLOSE') && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 20));

    expect(host.child.exitCode).toBeNull();
    expect(host.stdout()).toContain('HANDLER_SAW_CLOSE');
    expect(await (await fetch(`${host.url}/once`)).text()).toBe('ok');
  });
});
