/** The payloads stage: model rows → PersonaClick requests, and the schemas that check them. */
export type { ApiMethod, ApiPath, ApiRequest, BuildContext, BuildResult, BuildWarning, JsonObject, JsonValue, Row } from './types.js';
export { buildPurchase } from './purchase.js';
export {
  buildClearCart,
  buildClearWish,
  buildFullCart,
  buildFullList,
  buildFullWish,
  listContent,
  listEnvelopeOf,
  listEnvelopeProblem,
  type ListContent,
  type ListEnvelope,
  type ListKind,
} from './cart.js';
export { onBadValue, warningsText, type OnBadValue } from './policy.js';
export { buildEventRequest } from './event.js';
export { validateRequest } from './validate.js';
export { deriveSeance } from './seance.js';
export { isClosedLine } from './line-quantity.js';
export { listContentHash } from './hash.js';
export {
  buildStatusUpdate,
  buildSyncOrder,
  CUSTOMER_IDENTIFIERS,
  orderStateOf,
  syncOrdersRequest,
  type BuiltSyncOrder,
  type SyncContext,
  type SyncOrderResult,
} from './sync-order.js';
export {
  buildCategoryItem,
  buildProductItem,
  catalogueRequest,
  MAX_CATALOGUE_ID_CHARS,
  type CatalogueContext,
  type CatalogueKind,
  type ItemResult,
} from './catalogue.js';
export { contextDigest, ledgerDigest, toldItem } from './catalogue-digest.js';
