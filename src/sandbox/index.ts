export { startSandbox } from './server.js';
export { statsReport, CONTROL_PREFIX } from './control.js';
export { parseFaults, type FaultConfig, type RejectRule } from './faults.js';
export type { AcceptedRequest, AttemptRecord, Sandbox, SandboxOptions, SandboxStats, SandboxStatsReport } from './types.js';
