/** The example app spread over 8 regions (4 per jurisdiction), for bench/local-start.ts. */
import * as route53 from 'aws-cdk-lib/aws-route53';
import { createExampleApp } from '../bin/app';
import { Jurisdiction } from '../lib';

createExampleApp({
  jurisdictions: [
    Jurisdiction.us(['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'], { geolocations: [route53.GeoLocation.continent(route53.Continent.NORTH_AMERICA)] }),
    Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-west-2', 'eu-west-3'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
  ],
}).app.synth();
