/**
 * Tags that AgentRouting puts on every Route 53 health check it creates, so
 * that operators' tools (agentctl) find them with ListHealthChecks and
 * ListTagsForResources instead of hard-coded ids. Plain data: no aws-cdk-lib.
 */
export const RoutingTag = {
  /** The agent's name (the MultiRegionAgent's id, or AgentRouting's agentName prop). */
  agent: 'multi-region-agent:name',
  /** The region whose runtime the health check watches. */
  region: 'multi-region-agent:region',
  /** The jurisdiction the region belongs to. */
  jurisdiction: 'multi-region-agent:jurisdiction',
} as const;
