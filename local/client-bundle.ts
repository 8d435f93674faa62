/**
 * The typed client (client/) built for browsers by esbuild: what the
 * playground's page loads, and what the bundle-size test and
 * `npm run bench:client-bundle` measure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

/** The client's source in this repository; its compiled module (dist/client) in the installed package. */
const ENTRY = ['index.ts', 'index.js'].map((file) => path.join(__dirname, '..', 'client', file)).find((file) => fs.existsSync(file)) ?? '';

export interface ClientBundleOptions {
  /** `iife` defines `globalThis.AgentClientLib` (a classic script); `esm` is what an app's bundler would produce. */
  format: 'iife' | 'esm';
  /** Include aws4fetch (SigV4). Without it, `import('aws4fetch')` is left for the app's bundler or the browser to load when a request is signed. */
  withSigner: boolean;
}

export async function buildClientBundle({ format, withSigner }: ClientBundleOptions): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    minify: true,
    platform: 'browser',
    format,
    target: 'es2022',
    ...(format === 'iife' ? { globalName: 'AgentClientLib' } : {}),
    // The Node credential chain is never for browsers; the signer is loaded only when a request is signed.
    external: ['@aws-sdk/credential-provider-node', ...(withSigner ? [] : ['aws4fetch'])],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** Bytes minified, and minified then gzipped (what a browser downloads). */
export function sizeOf(code: string): { minified: number; gzipped: number } {
  return { minified: Buffer.byteLength(code), gzipped: gzipSync(code, { level: 9 }).length };
}
