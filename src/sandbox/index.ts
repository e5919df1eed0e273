export { startSandbox } from './server.js';
export { type FaultConfig, type RejectRule } from './faults.js';
export { type Verdict } from './rules/index.js';
export type { StoredLine, StoredOrder } from './order-book.js';
export type { OrderChange } from './state.js';
export type { TriggerCounts } from './triggers.js';
export { SANDBOX_SHOP_SECRET } from './types.js';
export type { AcceptedRequest, AttemptRecord, Sandbox, SandboxOptions, SandboxStats, SandboxStatsReport } from './types.js';
