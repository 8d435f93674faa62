#!/usr/bin/env node
// agentctl's entry point (package bin). In this repository: npm run agentctl -- status
import { main } from '../cli/agentctl/main';

void main(process.argv.slice(2)).then((exitCode) => {
  process.exitCode = exitCode;
});
