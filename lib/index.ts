export { MultiRegionAgentError } from './errors';
export * from './governance/jurisdiction';
export * from './chain/bedrock-model';
export * from './chain/model-chain';
export * from './providers/provider-model';
export * from './providers/provider-api-key';
export * from './providers/provider-keys';
export * from './observability/provider-key-alarm';
export * from './observability/target-rejected-alarm';
export * from './state/conversation-table';
export * from './health/target-health-table';
export * from './health/target-probe';
export { LogEncryption } from './governance/log-encryption';
export * from './observability/alarm-topic';
export * from './observability/agent-metrics';
export * from './agent/agent-code';
export * from './agent/agent-instructions';
export * from './agent/agent-tool';
export * from './agent/mcp-server-tool';
export * from './runtime/agent-function';
export * from './runtime/agent-api';
export * from './routing/agent-domain-names';
export * from './runtime/agent-runtime';
export * from './observability/fallback-rate-alarm';
export * from './routing/agent-routing';
export * from './routing/geolocation-routing';
export * from './observability/fallback-dashboard';
export * from './multi-region-agent';
export * from './governance/residency-report';
export { RoutingTag } from './routing/routing-tags';
export { MetricName, DimensionName, TargetErrorReason, DEFAULT_METRICS_NAMESPACE } from '../lambda/agent/metric-names';
export type { AgentManifest } from '../lambda/agent/agent/definition';
export type { LambdaToolEvent, LambdaToolSpec } from '../lambda/agent/agent/asset-layout';
export type {
  RuntimeConfigInput,
  RuntimeConfig,
  ChainTarget,
  Tier,
  InferenceGeography,
  ModelPrice,
  ProviderName,
  ProviderResidency,
} from '../lambda/agent/config';
