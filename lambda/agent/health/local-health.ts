/** This environment's breakers and latencies, which the shared health reads and drives once the runtime connects them. */
import type { CircuitBreakers } from '../chain/circuit-breaker';
import type { LatencyTracker } from '../chain/latency-tracker';

export interface LocalHealth {
  breakers?: CircuitBreakers;
  latency?: LatencyTracker;
}
