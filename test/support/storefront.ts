/**
 * A storefront-shaped shop, unlike the tests' own: uuid orders with a separate number, order ids written `'N' ||
 * number`, numeric money, jsonb metadata (addresses, tracking: ~1 kB a row), lines keyed by the order's uuid with a
 * jsonb product snapshot (~600 bytes a row) and the foreign-key index a framework makes, and no index for the sync. Its models are written as an operator would first write them: the items
 * query finds a page's orders by comparing `'N' || o.number` to the list of ids.
 */
import type { TestDatabase } from './pg.js';

export const STOREFRONT_ORDERS_QUERY = `SELECT 'N' || o.number AS order_id, o.updated_at, o.device_id AS did, o.placed_at AS ordered_at, o.status,
       o.email, o.total AS order_price, o.discount AS order_discount, o.shipping AS order_delivery,
       o.metadata->>'promo' AS promocode, o.metadata->>'payment' AS payment_type
  FROM store.orders o
 WHERE o.status IN ('paid', 'shipped', 'delivered')`;

/** The condition the naive items query finds a page's orders by. */
export const NAIVE_ITEMS_CONDITION = `'N' || o.number = ANY(:order_ids)`;

export const STOREFRONT_ITEMS_QUERY = `SELECT 'N' || o.number AS order_id, l.sku AS id, l.quantity AS amount, l.unit_price AS price
  FROM store.order_lines l JOIN store.orders o ON o.id = l.order_id
 WHERE ${NAIVE_ITEMS_CONDITION}`;

/** The items query with its condition replaced, as an operator follows `check`'s rewrite. */
export function rewriteItemsQuery(replacement: string, query = STOREFRONT_ITEMS_QUERY): string {
  if (!query.includes(NAIVE_ITEMS_CONDITION)) throw new Error('the items query does not hold the naive condition');
  return query.replace(NAIVE_ITEMS_CONDITION, replacement);
}

/**
 * `orders` orders numbered 1001.., one a second from 30 hours ago (so all are past any settle lag, and all placed within
 * the 48 hours that make a purchase new: the live sync sends them as purchases), 5% of them pending (not in the model);
 * 1.8 lines per order on average. VACUUM ANALYZE at the end.
 */
export async function createStorefront(db: TestDatabase, orders: number): Promise<void> {
  await db.query(`CREATE SCHEMA store;
    CREATE TABLE store.orders (
      id uuid PRIMARY KEY, number integer NOT NULL UNIQUE, device_id text, email text,
      placed_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
      subtotal numeric(14,2) NOT NULL, shipping numeric(14,2) NOT NULL, discount numeric(14,2), total numeric(14,2) NOT NULL,
      currency char(3) NOT NULL, status text NOT NULL, metadata jsonb NOT NULL DEFAULT '{}');
    CREATE TABLE store.order_lines (
      id uuid PRIMARY KEY, order_id uuid NOT NULL, sku text NOT NULL, title text NOT NULL,
      quantity integer NOT NULL, unit_price numeric(14,2) NOT NULL, attributes jsonb NOT NULL DEFAULT '{}');`);
  // The lines first, so that each order's totals are the sum of its lines; the foreign key after both.
  await db.query(
    `INSERT INTO store.order_lines (id, order_id, sku, title, quantity, unit_price, attributes)
     SELECT md5('line-' || i || '-' || j)::uuid, md5('order-' || i)::uuid, 'SKU-' || ((i * 31 + j * 17) % 5000), 'Product ' || ((i * 31 + j * 17) % 5000),
            1 + (i + j) % 3, round((5 + (i * 7 + j * 13) % 200)::numeric + 0.99, 2), jsonb_build_object(
              'size', (ARRAY['S', 'M', 'L'])[1 + j % 3], 'color', (ARRAY['black', 'white', 'navy', 'olive'])[1 + (i + j) % 4],
              'category', jsonb_build_array('Clothing', 'Women', 'Tops'), 'vendor', 'Vendor ' || (i % 120),
              'image', 'https://cdn.example.com/products/' || md5('img-' || ((i * 31 + j * 17) % 5000)) || '/large.jpg',
              'description', 'Soft organic cotton, relaxed fit, ribbed collar. ' || md5('d' || i || j) || md5('e' || i || j) || md5('f' || i || j),
              'tax', jsonb_build_object('rate', 0.19, 'included', true))
       FROM generate_series(1, $1::int) i, generate_series(1, CASE i % 5 WHEN 0 THEN 4 WHEN 1 THEN 2 ELSE 1 END) j`,
    [orders],
  );
  await db.query(
    `INSERT INTO store.orders (id, number, device_id, email, placed_at, updated_at, subtotal, shipping, discount, total, currency, status, metadata)
     SELECT md5('order-' || i)::uuid, 1000 + i, 'dev-' || (i % 40000), 'customer' || (i % 30000) || '@example.com',
            t, t + (i % 13) * interval '1 minute', l.sum, 4.90, d.discount, l.sum + 4.90 - coalesce(d.discount, 0), 'EUR',
            CASE WHEN i % 20 = 0 THEN 'pending' WHEN i % 3 = 0 THEN 'delivered' ELSE 'paid' END,
            jsonb_build_object('channel', 'web', 'payment', CASE WHEN i % 4 = 0 THEN 'paypal' ELSE 'card' END,
                               'promo', CASE WHEN i % 9 = 0 THEN 'SPRING10' END, 'utm', jsonb_build_object('source', 'newsletter', 'campaign', 'c' || (i % 50)),
                               'shipping_address', jsonb_build_object('name', 'Customer ' || (i % 30000), 'street', (i % 400) || ' ' || md5('s' || i), 'city', 'Berlin', 'zip', lpad((i % 99999)::text, 5, '0'), 'country', 'DE', 'phone', '+49 30 ' || (1000000 + i)),
                               'billing_address', jsonb_build_object('name', 'Customer ' || (i % 30000), 'street', (i % 400) || ' ' || md5('b' || i), 'city', 'Berlin', 'zip', lpad((i % 99999)::text, 5, '0'), 'country', 'DE'),
                               'user_agent', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
                               'note', CASE WHEN i % 7 = 0 THEN 'Please leave the parcel with the neighbour ' || md5('n' || i) END)
       FROM generate_series(1, $1::int) i
       JOIN (SELECT order_id, sum(quantity * unit_price) AS sum FROM store.order_lines GROUP BY order_id) l ON l.order_id = md5('order-' || i)::uuid,
            LATERAL (SELECT date_trunc('second', now()) - interval '30 hours' + i * interval '1 second' AS t) ts,
            LATERAL (SELECT CASE WHEN i % 6 = 0 THEN 2.50 END AS discount) d`,
    [orders],
  );
  await db.query(`ALTER TABLE store.order_lines ADD FOREIGN KEY (order_id) REFERENCES store.orders (id);
    CREATE INDEX ON store.order_lines (order_id);`);
  await db.query('VACUUM (ANALYZE) store.orders, store.order_lines');
}
