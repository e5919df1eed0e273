/**
 * A shop kept the way a Rails shop keeps its tables: Spree/Solidus's own table and column names (spree_orders with
 * `number`, `state`, `completed_at`; carts are orders not yet completed; spree_line_items; spree_inventory_units, whose
 * `returned` units are how a partial return splits a line; spree_payments joined in, store credit among them;
 * spree_refunds), `timestamp without time zone` columns holding UTC as ActiveRecord writes them, guests named by an
 * e-mail only, and phone orders entered by staff (`created_by_id` an admin). Two columns are the shop's own additions,
 * as shops add them: `spree_orders.personaclick_did` (the tracker's cookie stored at checkout) and
 * `spree_line_items.weight_kg` (goods sold by weight).
 */
import type { TestDatabase } from './pg.js';

/** The orders model an operator writes for it: payments and refunds aggregated per order, so one row per order. */
export const SPREE_ORDERS_QUERY = `SELECT o.number AS order_id, o.updated_at, o.completed_at AS ordered_at, o.personaclick_did AS did,
       o.state AS status, o.email, a.phone, o.user_id::text AS external_id,
       CASE WHEN o.created_by_id IS DISTINCT FROM o.user_id THEN 'callcenter' ELSE 'web' END AS channel,
       o.created_by_id IS DISTINCT FROM o.user_id AS offline,
       o.total - coalesce(p.refunded, 0) AS order_price,
       p.cash - coalesce(p.refunded, 0) AS order_cash, p.bonuses AS order_bonuses,
       o.shipment_total AS order_delivery, -o.promo_total AS order_discount
  FROM spree_orders o
  LEFT JOIN spree_addresses a ON a.id = o.bill_address_id
  LEFT JOIN LATERAL (
        SELECT sum(pm.amount) FILTER (WHERE pm.source_type IS DISTINCT FROM 'Spree::StoreCredit') AS cash,
               sum(pm.amount) FILTER (WHERE pm.source_type = 'Spree::StoreCredit') AS bonuses,
               (SELECT sum(r.amount) FROM spree_refunds r JOIN spree_payments rp ON rp.id = r.payment_id WHERE rp.order_id = o.id) AS refunded
          FROM spree_payments pm WHERE pm.order_id = o.id AND pm.state = 'completed') p ON true
 WHERE o.completed_at IS NOT NULL`;

/** The same with the payments joined row by row: an order paid in two parts comes back twice (a model error). */
export const SPREE_ORDERS_JOINED_QUERY = `SELECT o.number AS order_id, o.updated_at, o.completed_at AS ordered_at, o.personaclick_did AS did,
       o.state AS status, o.email, o.total AS order_price, pm.amount AS order_cash
  FROM spree_orders o JOIN spree_payments pm ON pm.order_id = o.id AND pm.state = 'completed'
 WHERE o.completed_at IS NOT NULL`;

/**
 * Its lines, by inventory unit state: a line of 2 with one unit returned is two rows of one product (shipped ×1,
 * refunded ×1). A cancelled order's units count as cancelled. Weighed goods give their weight as the amount.
 */
export const SPREE_ITEMS_QUERY = `SELECT o.number AS order_id, v.sku AS id, coalesce(li.weight_kg, sum(iu.quantity)) AS amount, li.price,
       CASE WHEN o.state = 'canceled' THEN 'cancelled' WHEN iu.state = 'returned' THEN 'refunded'
            WHEN iu.state = 'shipped' THEN 'shipped' ELSE 'created' END AS status
  FROM spree_orders o
  JOIN spree_line_items li ON li.order_id = o.id
  JOIN spree_variants v ON v.id = li.variant_id
  JOIN spree_inventory_units iu ON iu.line_item_id = li.id
 WHERE o.number = ANY(:order_ids)
 GROUP BY o.number, o.state, v.sku, li.id, li.price, li.weight_kg, iu.state`;

/** Carts: orders not completed yet, by the device stored on them. */
export const SPREE_CARTS_QUERY = `SELECT o.personaclick_did AS did, v.sku AS id, li.quantity
  FROM spree_orders o JOIN spree_line_items li ON li.order_id = o.id JOIN spree_variants v ON v.id = li.variant_id
 WHERE o.completed_at IS NULL AND o.state = 'cart' AND o.personaclick_did IS NOT NULL`;

export async function createSpreeShop(db: TestDatabase): Promise<void> {
  await db.query(`
    CREATE TABLE spree_users (id bigserial PRIMARY KEY, email varchar NOT NULL, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);
    CREATE TABLE spree_addresses (id bigserial PRIMARY KEY, firstname varchar, lastname varchar, phone varchar,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);
    CREATE TABLE spree_products (id bigserial PRIMARY KEY, name varchar DEFAULT '' NOT NULL, description text, available_on timestamp,
      deleted_at timestamp, slug varchar, meta_description text, meta_keywords varchar, tax_category_id bigint, shipping_category_id bigint,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, promotionable boolean DEFAULT true, meta_title varchar, discontinue_on timestamp);
    CREATE TABLE spree_variants (id bigserial PRIMARY KEY, sku varchar DEFAULT '' NOT NULL, weight numeric(8,2) DEFAULT 0.0, height numeric(8,2),
      width numeric(8,2), depth numeric(8,2), deleted_at timestamp, is_master boolean DEFAULT false, product_id bigint, cost_price numeric(10,2),
      position integer, cost_currency varchar, track_inventory boolean DEFAULT true, tax_category_id bigint, discontinue_on timestamp,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);
    CREATE TABLE spree_prices (id bigserial PRIMARY KEY, variant_id bigint NOT NULL, amount numeric(10,2), currency varchar, deleted_at timestamp,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, compare_at_amount numeric(10,2));
    CREATE TABLE spree_stock_items (id bigserial PRIMARY KEY, stock_location_id bigint, variant_id bigint, count_on_hand integer DEFAULT 0 NOT NULL,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, backorderable boolean DEFAULT false, deleted_at timestamp);
    CREATE TABLE spree_taxonomies (id bigserial PRIMARY KEY, name varchar NOT NULL, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL,
      position integer DEFAULT 0);
    CREATE TABLE spree_taxons (id bigserial PRIMARY KEY, parent_id bigint, position integer DEFAULT 0, name varchar NOT NULL, permalink varchar,
      taxonomy_id bigint, lft integer, rgt integer, description text, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL,
      meta_title varchar, meta_description varchar, meta_keywords varchar, depth integer, hide_from_nav boolean DEFAULT false);
    CREATE TABLE spree_products_taxons (id bigserial PRIMARY KEY, product_id bigint, taxon_id bigint, position integer);
    CREATE TABLE spree_orders (id bigserial PRIMARY KEY, number varchar(32), item_total numeric(10,2) DEFAULT 0.0 NOT NULL,
      total numeric(10,2) DEFAULT 0.0 NOT NULL, state varchar, adjustment_total numeric(10,2) DEFAULT 0.0 NOT NULL, user_id bigint,
      completed_at timestamp, bill_address_id bigint, ship_address_id bigint, payment_total numeric(10,2) DEFAULT 0.0,
      shipment_state varchar, payment_state varchar, email varchar, special_instructions text,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, currency varchar, last_ip_address varchar, created_by_id bigint,
      shipment_total numeric(10,2) DEFAULT 0.0 NOT NULL, additional_tax_total numeric(10,2) DEFAULT 0.0, promo_total numeric(10,2) DEFAULT 0.0,
      channel varchar DEFAULT 'spree', included_tax_total numeric(10,2) DEFAULT 0.0 NOT NULL, item_count integer DEFAULT 0,
      canceled_at timestamp, canceler_id bigint, store_id bigint,
      personaclick_did varchar);
    CREATE UNIQUE INDEX index_spree_orders_on_number ON spree_orders (number);
    CREATE INDEX index_spree_orders_on_completed_at ON spree_orders (completed_at);
    CREATE INDEX index_spree_orders_on_user_id_and_created_by_id ON spree_orders (user_id, created_by_id);
    CREATE INDEX personaclick_orders_keyset ON spree_orders (updated_at, number);
    CREATE TABLE spree_line_items (id bigserial PRIMARY KEY, variant_id bigint, order_id bigint, quantity integer NOT NULL,
      price numeric(10,2) NOT NULL, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, currency varchar,
      cost_price numeric(10,2), adjustment_total numeric(10,2) DEFAULT 0.0, promo_total numeric(10,2) DEFAULT 0.0,
      weight_kg numeric(8,3));
    CREATE INDEX index_spree_line_items_on_order_id ON spree_line_items (order_id);
    CREATE TABLE spree_inventory_units (id bigserial PRIMARY KEY, state varchar, variant_id bigint, order_id bigint, shipment_id bigint,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, pending boolean DEFAULT true, line_item_id bigint,
      quantity integer DEFAULT 1, original_return_item_id bigint);
    CREATE INDEX index_spree_inventory_units_on_line_item_id ON spree_inventory_units (line_item_id);
    CREATE TABLE spree_payments (id bigserial PRIMARY KEY, amount numeric(10,2) DEFAULT 0.0 NOT NULL, order_id bigint,
      source_type varchar, source_id bigint, payment_method_id bigint, state varchar, response_code varchar,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, number varchar);
    CREATE INDEX index_spree_payments_on_order_id ON spree_payments (order_id);
    CREATE TABLE spree_refunds (id bigserial PRIMARY KEY, payment_id bigint, amount numeric(10,2) DEFAULT 0.0 NOT NULL,
      transaction_id varchar, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, refund_reason_id bigint, reimbursement_id bigint);
    INSERT INTO spree_users (id, email, created_at, updated_at) VALUES (1, 'admin@shop.example', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC');
    INSERT INTO spree_products (id, name, slug, available_on, created_at, updated_at)
      SELECT i, 'Product ' || i, 'product-' || i, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM generate_series(1, 20) i;
    INSERT INTO spree_variants (id, sku, product_id, is_master, position, created_at, updated_at)
      SELECT i, 'SKU-' || lpad(i::text, 3, '0'), i, true, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM generate_series(1, 20) i;
    INSERT INTO spree_prices (variant_id, amount, currency, created_at, updated_at)
      SELECT i, 10 + i, 'USD', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM generate_series(1, 20) i;
    INSERT INTO spree_stock_items (stock_location_id, variant_id, count_on_hand, created_at, updated_at)
      SELECT 1, i, CASE WHEN i % 10 = 0 THEN 0 ELSE 5 END, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM generate_series(1, 20) i;
    INSERT INTO spree_taxonomies (id, name, created_at, updated_at) VALUES (1, 'Categories', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC');
    INSERT INTO spree_taxons (id, parent_id, name, permalink, taxonomy_id, depth, created_at, updated_at) VALUES
      (1, NULL, 'Categories', 'categories', 1, 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'),
      (2, 1, 'Clothing', 'categories/clothing', 1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'),
      (3, 1, 'Bags', 'categories/bags', 1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'),
      (4, 2, 'Shirts', 'categories/clothing/shirts', 1, 2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'),
      (5, 2, 'T-Shirts', 'categories/clothing/t-shirts', 1, 2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC');
    INSERT INTO spree_products_taxons (product_id, taxon_id, position) SELECT i, 3 + i % 3, 1 FROM generate_series(1, 20) i;`);
}

export interface SpreeLine {
  variant: number;
  quantity: number;
  price: number;
  /** Weighed goods: the weight sold, in kg. */
  weightKg?: number;
}

export interface SpreeOrder {
  number: string;
  /** Hours ago it was completed (null: a cart). */
  completedHoursAgo: number | null;
  state?: string;
  /** The tracker's cookie, when the storefront stored one. */
  did?: string | null;
  email?: string;
  phone?: string;
  /** A registered customer's id (guests have none). */
  userId?: number | null;
  /** Staff who entered it (a phone order): an admin's user id. */
  createdBy?: number | null;
  lines: SpreeLine[];
  shipment?: number;
  promo?: number;
  /** Paid partly with store credit (a second payment row). */
  storeCredit?: number;
}

const UTC_NOW = `(now() AT TIME ZONE 'UTC')`;

/** Insert an order as Spree does: the order, its lines, one inventory unit per unit, its payments. */
export async function insertSpreeOrder(db: TestDatabase, o: SpreeOrder): Promise<void> {
  const itemTotal = o.lines.reduce((n, l) => n + (l.weightKg === undefined ? l.price * l.quantity : Math.round(l.price * l.weightKg * 100) / 100), 0);
  const total = Math.round((itemTotal + (o.shipment ?? 0) + (o.promo ?? 0)) * 100) / 100;
  const address =
    o.phone === undefined
      ? null
      : ((
          await db.query<{ id: string }>(
            `INSERT INTO spree_addresses (firstname, phone, created_at, updated_at) VALUES ('A', $1, ${UTC_NOW}, ${UTC_NOW}) RETURNING id`,
            [o.phone],
          )
        )[0]?.id ?? null);
  const completed = o.completedHoursAgo === null ? null : `${UTC_NOW} - make_interval(hours => ${o.completedHoursAgo})`;
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO spree_orders (number, item_total, total, state, user_id, completed_at, bill_address_id, email, created_at, updated_at,
                               created_by_id, shipment_total, promo_total, personaclick_did, payment_total)
     VALUES ($1, $2, $3, $4, $5, ${completed ?? 'NULL'}, $6, $7, ${completed ?? UTC_NOW} - interval '10 minutes', ${UTC_NOW},
             $8, $9, $10, $11, $3) RETURNING id`,
    [
      o.number,
      itemTotal,
      total,
      o.state ?? (o.completedHoursAgo === null ? 'cart' : 'complete'),
      o.userId ?? null,
      address,
      o.email ?? null,
      o.createdBy ?? o.userId ?? null,
      o.shipment ?? 0,
      o.promo ?? 0,
      o.did ?? null,
    ],
  );
  const orderId = row?.id;
  for (const l of o.lines) {
    const [li] = await db.query<{ id: string }>(
      `INSERT INTO spree_line_items (variant_id, order_id, quantity, price, created_at, updated_at, weight_kg) VALUES ($1, $2, $3, $4, ${UTC_NOW}, ${UTC_NOW}, $5) RETURNING id`,
      [l.variant, orderId, l.quantity, l.price, l.weightKg ?? null],
    );
    if (o.completedHoursAgo !== null) {
      await db.query(
        `INSERT INTO spree_inventory_units (state, variant_id, order_id, line_item_id, quantity, created_at, updated_at)
         SELECT 'shipped', $1, $2, $3, 1, ${UTC_NOW}, ${UTC_NOW} FROM generate_series(1, $4::int)`,
        [l.variant, orderId, li?.id, l.quantity],
      );
    }
  }
  if (o.completedHoursAgo === null) return;
  const credit = o.storeCredit ?? 0;
  await db.query(
    `INSERT INTO spree_payments (amount, order_id, source_type, state, created_at, updated_at) VALUES ($1, $2, 'Spree::CreditCard', 'completed', ${UTC_NOW}, ${UTC_NOW})`,
    [Math.round((total - credit) * 100) / 100, orderId],
  );
  if (credit > 0) {
    await db.query(
      `INSERT INTO spree_payments (amount, order_id, source_type, state, created_at, updated_at) VALUES ($1, $2, 'Spree::StoreCredit', 'completed', ${UTC_NOW}, ${UTC_NOW})`,
      [credit, orderId],
    );
  }
}

/** A customer return of `units` units of one variant of an order, refunded to the card; the order's updated_at moves. */
export async function returnUnits(db: TestDatabase, number: string, variant: number, units: number, state = 'returned'): Promise<void> {
  await db.query(
    `UPDATE spree_inventory_units SET state = 'returned', updated_at = ${UTC_NOW}
      WHERE id IN (SELECT iu.id FROM spree_inventory_units iu JOIN spree_orders o ON o.id = iu.order_id
                    WHERE o.number = $1 AND iu.variant_id = $2 AND iu.state = 'shipped' ORDER BY iu.id LIMIT $3)`,
    [number, variant, units],
  );
  await db.query(
    `INSERT INTO spree_refunds (payment_id, amount, created_at, updated_at)
     SELECT p.id, li.price * $3, ${UTC_NOW}, ${UTC_NOW}
       FROM spree_orders o JOIN spree_payments p ON p.order_id = o.id AND p.source_type = 'Spree::CreditCard'
       JOIN spree_line_items li ON li.order_id = o.id AND li.variant_id = $2
      WHERE o.number = $1`,
    [number, variant, units],
  );
  await db.query(`UPDATE spree_orders SET state = $2, updated_at = ${UTC_NOW} WHERE number = $1`, [number, state]);
}

/** The shop cancels an order (Spree: state canceled, canceled_at set). */
export async function cancelOrder(db: TestDatabase, number: string): Promise<void> {
  await db.query(`UPDATE spree_orders SET state = 'canceled', canceled_at = ${UTC_NOW}, updated_at = ${UTC_NOW} WHERE number = $1`, [number]);
}
