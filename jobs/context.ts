/** What every builder is told about the shop, from the config. */
import type { Config } from '../src/config/index.js';
import type { BuildContext } from '../src/payloads/index.js';

export function buildContext(config: Config): BuildContext {
  return { shopId: config.personaclick.shopId, defaultStream: config.personaclick.stream };
}
