// An agent whose tools get 4 seconds unless they say otherwise.
import { defineAgent } from 'cdk-multi-region-agent/agent';

export default defineAgent({ instructions: 'Look orders up.', toolTimeoutMs: 4000 });
