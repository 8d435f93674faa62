/**
 * The typed client in a browser bundle: no CDK, no runtime code, no Node
 * built-ins, and within the size budget (15 KB minified and gzipped without
 * the SigV4 signer).
 */
import { buildClientBundle, sizeOf } from '../../local/client-bundle';

test('the browser bundle without the signer is at most 15 KB minified and gzipped, and leaves aws4fetch to a lazy import', async () => {
  const code = await buildClientBundle({ format: 'esm', withSigner: false });

  expect(sizeOf(code).gzipped).toBeLessThanOrEqual(15 * 1024);
  expect(code).toContain('import("aws4fetch")');
  expect(code).not.toMatch(/AwsV4Signer\s*=|class AwsV4Signer/);
});

test('the bundle holds no CDK, no Lambda runtime and no Node built-in', async () => {
  const code = await buildClientBundle({ format: 'esm', withSigner: true });

  expect(code).not.toMatch(/aws-cdk-lib|node:|require\(|lambda\/agent/);
  expect(code).toMatch(/AWS4-HMAC-SHA256/);
});
