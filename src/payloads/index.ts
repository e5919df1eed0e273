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
export { ON_BAD_VALUE, onBadValue, warningsText, type OnBadValue } from './policy.js';
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
  syncEnvelopeBytes,
  syncOrdersRequest,
  type BuiltSyncOrder,
  type SyncContext,
  type SyncOrderResult,
} from './sync-order.js';
export {
  buildCategoryItem,
  buildProductItem,
  catalogueRequest,
  CATEGORY_COLUMN_NAMES,
  MAX_CATALOGUE_BATCH,
  MAX_CATALOGUE_ID_CHARS,
  MAX_PICTURE_CHARS,
  PRODUCT_COLUMN_NAMES,
  REQUIRED_CATEGORY_COLUMNS,
  REQUIRED_PRODUCT_COLUMNS,
  type CatalogueContext,
  type CatalogueKind,
  type ItemResult,
} from './catalogue.js';
