#!/usr/bin/env node
// agentctl's entry point (package bin). During development: npx tsx bin/agentctl.ts status
import { main } from '../cli/agentctl/main';

void main(process.argv.slice(2)).then((exitCode) => {
  process.exitCode = exitCode;
});
