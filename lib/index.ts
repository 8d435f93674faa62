export { MultiRegionAgentError } from './errors';
export * from './jurisdiction';
export * from './bedrock-model';
export * from './model-chain';
export * from './provider-model';
export * from './provider-api-key';
export * from './provider-keys';
export * from './provider-key-alarm';
export * from './target-rejected-alarm';
export * from './conversation-table';
export * from './target-health-table';
export * from './target-probe';
export { LogEncryption } from './log-encryption';
export * from './alarm-topic';
export * from './agent-metrics';
export * from './agent-code';
export * from './agent-instructions';
export * from './agent-tool';
export * from './mcp-server-tool';
export * from './agent-function';
export * from './agent-api';
export * from './agent-domain-names';
export * from './agent-runtime';
export * from './fallback-rate-alarm';
export * from './agent-routing';
export * from './geolocation-routing';
export * from './fallback-dashboard';
export * from './multi-region-agent';
export * from './residency-report';
export { RoutingTag } from './routing-tags';
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
