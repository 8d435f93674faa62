/**
 * Where a jurisdiction is served: its name (`https://eu.agent.example.com`,
 * latency-routed among its regions by Route 53) and each region's own name
 * (`https://eu-west-1.agent.example.com`). A conversation id carries its
 * jurisdiction (`eu.…`); the client only ever sends it to these names.
 */
import { AgentClientError } from './errors';

/** The names one jurisdiction is served under. */
export interface JurisdictionEndpoints {
  /** The jurisdiction's name, e.g. `https://eu.agent.example.com`. */
  readonly url: string;
  /** Each region's own name, in the order to try them, e.g. `{ 'eu-west-1': 'https://eu-west-1.agent.example.com' }`. */
  readonly regions: Readonly<Record<string, string>>;
}

/** Endpoints per jurisdiction name (`eu`, `us`…). */
export type AgentEndpoints = Readonly<Record<string, JurisdictionEndpoints>>;

/**
 * The names a deployment of MultiRegionAgent serves under `domainName`
 * (`<jurisdiction>.<domainName>`, `<region>.<domainName>`), for the regions of each jurisdiction.
 */
export function agentEndpoints(domainName: string, regionsByJurisdiction: Readonly<Record<string, readonly string[]>>): AgentEndpoints {
  return Object.fromEntries(
    Object.entries(regionsByJurisdiction).map(([jurisdiction, regions]) => [
      jurisdiction,
      { url: `https://${jurisdiction}.${domainName}`, regions: Object.fromEntries(regions.map((region) => [region, `https://${region}.${domainName}`])) },
    ]),
  );
}

/** The jurisdiction a conversation id names (`eu.3f0c…` → `eu`), refused before any request when the client has no endpoints for it. */
export function jurisdictionOf(conversationId: string, endpoints: AgentEndpoints): string {
  const dot = conversationId.indexOf('.');
  const jurisdiction = dot > 0 ? conversationId.slice(0, dot) : '';
  if (!jurisdiction || !(jurisdiction in endpoints)) {
    const known = Object.keys(endpoints).join(', ');
    throw new AgentClientError(
      'unknown_jurisdiction',
      `conversation ${conversationId} names jurisdiction "${jurisdiction}", but this client has endpoints only for ${known}: it is sent to no other jurisdiction's names`,
    );
  }
  return jurisdiction;
}

/** One name to try, and the region a SigV4 signature must name there (undefined: not known before the request). */
export interface Candidate {
  url: string;
  region?: string;
}

export function endpointsOf(endpoints: AgentEndpoints, jurisdiction: string): JurisdictionEndpoints {
  const found = endpoints[jurisdiction];
  if (!found)
    throw new AgentClientError('unknown_jurisdiction', `no endpoints for jurisdiction "${jurisdiction}" (known: ${Object.keys(endpoints).join(', ')})`);
  return found;
}

/** The jurisdiction's name first, then each of its regions' names. */
export function candidatesOf(jurisdiction: JurisdictionEndpoints): Candidate[] {
  return [{ url: jurisdiction.url }, ...Object.entries(jurisdiction.regions).map(([region, url]) => ({ url, region }))];
}
