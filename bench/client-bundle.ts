/**
 * `npm run bench:client-bundle`: the browser bundle of the typed client
 * (esbuild, minified, gzip -9), without and with the SigV4 signer.
 */
import { buildClientBundle, sizeOf } from '../local/client-bundle';

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const withSigner of [false, true]) {
    const { minified, gzipped } = sizeOf(await buildClientBundle({ format: 'esm', withSigner }));
    rows.push(
      `${withSigner ? 'with SigV4 (aws4fetch)' : 'without the signer'}: ${(minified / 1024).toFixed(1)} KB minified, ${(gzipped / 1024).toFixed(1)} KB gzipped`,
    );
  }
  process.stdout.write(`cdk-multi-region-agent/client, browser ESM bundle\n${rows.join('\n')}\n`);
}

void main();
