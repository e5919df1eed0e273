/**
 * The operator's SQL models as a contract (docs/models.md): for each, the columns it must
 * give, should give, and may give. `check` judges a model's columns by these.
 */
export interface ModelSpec {
  /** Where the model is in the config: 'jobs.orders.query'. */
  subject: string;
  /** What the rows are, for messages: "one row per order". */
  shape: string;
  /** Required column → why it is needed. */
  required: Readonly<Record<string, string>>;
  /** Recommended column → what is lost without it (a warn when absent). */
  recommended?: Readonly<Record<string, string>>;
  /** Further columns the connector reads. */
  optional: readonly string[];
}

const ENVELOPE = ['seance', 'stream', 'segment', 'referer', 'source_from', 'source_code', 'source_at'] as const;
const ORDER_FIELDS = [
  'order_price',
  'order_cash',
  'order_bonuses',
  'order_delivery',
  'order_discount',
  'promocode',
  'delivery_address',
  'delivery_type',
  'payment_type',
  'email',
  'phone',
  'tax_free',
  'custom',
] as const;

export const ORDERS_MODEL: ModelSpec = {
  subject: 'jobs.orders.query',
  shape: 'one row per order',
  required: {
    order_id: 'the order id, key of the delivered ledger and of the keyset cursor',
    updated_at: 'when the order last changed or became sendable, set by the database; pages are read in (updated_at, order_id) order',
  },
  recommended: {
    did: 'the device id a live purchase is sent for: without it every order goes through the order-sync API (which needs personaclick.shopSecret)',
    ordered_at: 'when the order was placed: without it its age is judged by updated_at, so an old order that changes looks like a new purchase',
    status: "the shop's status: without it a cancelled order cannot be told from a bought one, and no status change reaches PersonaClick",
  },
  optional: [...ENVELOPE, ...ORDER_FIELDS, 'channel', 'external_id', 'loyalty_id', 'telegram_id', 'comment', 'offline', 'recommended_source'],
};

export const ITEMS_MODEL: ModelSpec = {
  subject: 'jobs.orders.itemsQuery',
  shape: 'one row per order line, for the orders bound to :order_ids',
  required: {
    order_id: 'the order the line belongs to',
    id: 'the product id of the line',
    amount: 'how many of the product were bought',
  },
  recommended: { price: 'the unit price of the line: without it purchases go out without item prices' },
  optional: ['line_id', 'fashion_size', 'status'], // status: a refunded or cancelled line is how a return is told
};

export const CARTS_MODEL: ModelSpec = {
  subject: 'jobs.carts.query',
  shape: 'one row per cart line',
  required: {
    did: 'the device whose cart holds the line; the snapshot is read sorted by did',
    id: 'the product id of the line',
    quantity: 'how many of the product are in the cart',
  },
  optional: [...ENVELOPE],
};

export const WISHLISTS_MODEL: ModelSpec = {
  subject: 'jobs.wishlists.query',
  shape: 'one row per wishlist line',
  required: {
    did: 'the device whose wishlist holds the line; the snapshot is read sorted by did',
    id: 'the product id of the line',
  },
  optional: [...ENVELOPE],
};

export const EVENTS_MODEL: ModelSpec = {
  subject: 'jobs.events.query',
  shape: 'one row per request',
  required: { event_key: 'a unique key per row, used by the delivered ledger and the keyset pages' },
  optional: [
    'endpoint',
    'event',
    'did',
    'items',
    'full_cart',
    'full_wish',
    'category_id',
    'search_query',
    'recommended_by',
    'recommended_code',
    'category',
    'label',
    'value',
    'code',
    'type',
    'order_id',
    'ordered_at',
    ...ENVELOPE,
    ...ORDER_FIELDS,
  ],
};

export const CATEGORIES_MODEL: ModelSpec = {
  subject: 'jobs.categories.query',
  shape: 'one row per category',
  required: { id: 'the category id; the model is read sorted by id', name: 'the category name PersonaClick shows' },
  recommended: {
    parent: 'the parent category id (null at the top): without it the tree is flat',
    url: "the category page: without it PersonaClick's standard search template does not show the category",
  },
  optional: ['alias'],
};

export const PRODUCTS_MODEL: ModelSpec = {
  subject: 'jobs.products.query',
  shape: 'one row per product',
  required: {
    id: 'the product id (the one orders, carts and wishlists name); the model is read sorted by id',
    name: 'the product name',
    price: 'the price (greater than 0 unless the shop enabled zero prices)',
    url: 'the product page',
    picture: 'the picture URL (at most 500 characters)',
    available: 'true or false: availability is mirrored from it',
    categories: 'the leaf categories the product is in (an array, or one id)',
  },
  recommended: {
    updated_at: 'when the product last changed: sync products reads only the products changed since its last run; without it only reconcile works',
    currency: 'the currency of the price (else jobs.products.currency)',
  },
  optional: [
    'oldprice',
    'price_with_promocode',
    'brand',
    'barcode',
    'group_id',
    'vendor_code',
    'type_prefix',
    'model',
    'description',
    'stock_quantity',
    'discount_percent',
    'price_margin',
    'rating',
    'leftovers',
    'is_new',
    'ignored',
    'promocode',
    'deeplink_android',
    'deeplink_ios',
    'tags',
    'seasonality',
    'params',
    'locations',
    'fashion',
    'child',
    'cosmetic',
    'jewelry',
  ],
};
