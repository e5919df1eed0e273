/** The payloads stage: model rows → PersonaClick requests, and the schemas that check them. */
export type { ApiPath, ApiRequest, BuildContext, BuildResult, JsonValue, Row } from './types.js';
export { buildPurchase } from './purchase.js';
export {
  buildClearCart,
  buildClearWish,
  buildFullCart,
  buildFullList,
  buildFullWish,
  listContent,
  listEnvelopeProblem,
  type ListContent,
  type ListKind,
} from './cart.js';
export { buildEventRequest } from './event.js';
export { validateRequest } from './validate.js';
export { deriveSeance } from './seance.js';
export { listContentHash } from './hash.js';
