/**
 * `cdk-multi-region-agent/client`: the typed client of the agent's HTTP API, for Node 20+ and browsers.
 *
 * @packageDocumentation
 */
export { AgentClient, END_USER_HEADER } from './agent-client';
export type {
  AgentClientOptions,
  Answer,
  Conversation,
  ConversationExport,
  ConversationPage,
  ConversationSummary,
  MessageStream,
  SendOptions,
  StoredTurn,
} from './agent-client';
export { AgentAuth, type AwsCredentials, type OutgoingRequest } from './auth';
export { agentEndpoints, type AgentEndpoints, type JurisdictionEndpoints } from './endpoints';
export { AgentClientError } from './errors';
export type { AgentEvent, DoneEvent, ErrorEvent, Path, ServedBy, StartEvent, StepSummary } from './events';
