/** flight_status, a Lambda function deployed in each region (MultiRegionAgent's `tools` factory). */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { AgentTool } from 'cdk-multi-region-agent';

export function flightTools(scope: Construct): AgentTool[] {
  const flightStatus = new nodejs.NodejsFunction(scope, 'FlightStatus', {
    entry: path.join(__dirname, 'flight-status.ts'),
    handler: 'handler',
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    timeout: Duration.seconds(10),
  });
  return [
    AgentTool.fromFunction(flightStatus, {
      name: 'flight_status',
      description: 'The status of a flight by its number (two letters and four digits), e.g. LH1234.',
      inputSchema: {
        type: 'object',
        properties: { flightNumber: { type: 'string', pattern: '^[A-Za-z]{2}\\d{4}$' } },
        required: ['flightNumber'],
        additionalProperties: false,
      },
    }),
  ];
}
