/** Configuration: YAML file + environment, validated once (docs/configuration.md). */
export {
  loadConfig,
  parseConfig,
  parseYaml,
  resolveConfigPath,
  DEFAULT_CONFIG_PATH,
  CONFIG_PATH_ENV,
  type LoadConfigOptions,
} from './load.js';
export { secretsOf, redactUrl } from './secrets.js';
export { interpolate, interpolateString } from './interpolate.js';
export {
  configSchema,
  cronProblem,
  resolveStartFrom,
  requireJob,
  DEFAULTS,
  JOB_NAMES,
  type Config,
  type PersonaClickConfig,
  type DeliveryConfig,
  type SourceConfig,
  type StateConfig,
  type ScheduleConfig,
  type MetricsConfig,
  type NotifyConfig,
  type JobConfigBase,
  type OrdersJobConfig,
  type SnapshotJobConfig,
  type EventsJobConfig,
  type CategoriesJobConfig,
  type ProductsJobConfig,
  type JobsConfig,
  type JobName,
} from './schema.js';
