/** Configuration: YAML file + environment, validated once (docs/configuration.md). */
export { loadConfig, parseConfig, type LoadConfigOptions } from './load.js';
export { secretsOf, redactUrl } from './secrets.js';
export { interpolateString } from './interpolate.js';
export {
  cronProblem,
  resolveStartFrom,
  requireJob,
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
