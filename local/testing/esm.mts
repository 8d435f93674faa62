/** The ES module entry of `cdk-multi-region-agent/testing`: the same module as the CommonJS entry (one copy, one state), for `import`. */
export * from './index.js';
