import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { Jurisdiction } from '../governance/jurisdiction';

/** The host names one region's API answers on. */
export interface AgentDomains {
  /** The public name shared by every region (latency- or geolocation-routed). */
  readonly publicDomain: apigateway.IDomainName;
  /** `<jurisdiction>.<name>`, shared by the jurisdiction's regions. */
  readonly jurisdictionDomain: apigateway.IDomainName;
  /** `<region>.<name>`, this region only: health checks and operators use it. */
  readonly regionalDomain: apigateway.IDomainName;
}

/** Properties of {@link AgentDomainNames}: the API, the names and the hosted zone that validates their certificate. */
export interface AgentDomainNamesProps {
  /** The API the three names are mapped to (base path: none). */
  readonly api: apigateway.IRestApi;
  /** The public DNS name of the agent, e.g. `agent.example.com`. */
  readonly recordName: string;
  /** The hosted zone of `recordName`, where the certificate is validated. */
  readonly hostedZone: route53.IHostedZone;
  /** The region's jurisdiction: names `<jurisdiction>.<recordName>`. */
  readonly jurisdiction: Jurisdiction;
  /** The API's region: names `<region>.<recordName>`. */
  readonly region: string;
}

/**
 * One region's custom domains: a DNS-validated certificate for the public
 * name and `*.<name>`, and three regional API Gateway domain names (TLS 1.2)
 * mapped to the API: the public name, `<jurisdiction>.<name>` and
 * `<region>.<name>`. Route 53 records pointing at them are AgentRouting's.
 */
export class AgentDomainNames extends Construct implements AgentDomains {
  /** The DNS-validated certificate of the public name and `*.<name>`. */
  readonly certificate: acm.ICertificate;
  readonly publicDomain: apigateway.DomainName;
  readonly jurisdictionDomain: apigateway.DomainName;
  readonly regionalDomain: apigateway.DomainName;

  constructor(scope: Construct, id: string, props: AgentDomainNamesProps) {
    super(scope, id);
    const { recordName } = props;
    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: recordName,
      // <jurisdiction>.<name> and <region>.<name>
      subjectAlternativeNames: [`*.${recordName}`],
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });
    const domain = (domainId: string, domainName: string) => {
      const created = new apigateway.DomainName(this, domainId, {
        domainName,
        certificate: this.certificate,
        endpointType: apigateway.EndpointType.REGIONAL,
        securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
      });
      created.addBasePathMapping(props.api);
      return created;
    };
    this.publicDomain = domain('PublicDomain', recordName);
    this.jurisdictionDomain = domain('JurisdictionDomain', props.jurisdiction.hostName(recordName));
    this.regionalDomain = domain('RegionalDomain', `${props.region}.${recordName}`);
  }
}
