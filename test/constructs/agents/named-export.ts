// The definition as a named export `agent`, which the runtime accepts too.
import { defineAgent } from 'cdk-multi-region-agent/agent';

export const agent = defineAgent({ instructions: 'Answer briefly.', maxSteps: 2 });
