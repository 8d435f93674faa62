/**
 * The types of `cdk-multi-region-agent/agent`: the agent contract, and the
 * text modules an entry imports (`import instructions from './instructions.md'`),
 * so that an entry type-checks with no declaration of its own.
 */
// A reference, not an import: text-modules.d.ts declares ambient modules, which a module file cannot.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./text-modules.d.ts" />
export * from '../dist/lambda/agent/agent/index.js';
