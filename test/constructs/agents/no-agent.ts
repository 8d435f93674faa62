// A module that forgot to export its definition.
import { defineAgent } from 'cdk-multi-region-agent/agent';

export const instructions = 'Answer briefly.';
defineAgent({ instructions });
