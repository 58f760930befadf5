/**
 * event-contracts: the programmatic API, for build tools and scripts that do what the CLI
 * does without a shell. Data flows as in the CLI: load a workspace (documents → catalog),
 * then generate from it or check it against the registry lock. Nothing here prints or exits;
 * problems come back as diagnostics (`file:line:col`, see formatDiagnostic).
 *
 * The runtime that generated code imports is a separate entry point,
 * `event-contracts/runtime` (with `/runtime/nats` and `/runtime/amqp` for the transports).
 */
export { loadConfig, resolveConfig, ConfigError, CONFIG_FILES } from './config.js';
export type { Config, IgnoreRule, CompatLevelName } from './config.js';
export { openWorkspace } from './workspace.js';
export type { Workspace, OpenOptions } from './workspace.js';
export { generate, packageSettings } from './generate/index.js';
export type { GenerateSettings, GenerateResult } from './generate/index.js';
export { runGate as check, gateFails, applyIgnores } from './gate/index.js';
export type { GateResult, Finding } from './gate/index.js';
export { formatDiagnostic, formatLocation, hasErrors, sortDiagnostics } from './diagnostics.js';
export type { Diagnostic, Severity, SourceLocation } from './diagnostics.js';
export type { Catalog, EventType, EventVersion, Service, Operation } from './catalog/model.js';
