// An import that cannot be resolved: bundling fails.
import { defineAgent } from 'cdk-multi-region-agent/agent';
// @ts-expect-error the module does not exist, on purpose
import { catalogue } from './catalogue';

export default defineAgent({ instructions: String(catalogue) });
