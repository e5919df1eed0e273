/**
 * Item objects of the tracking events. The reference: view, remove_from_cart, wish and remove_wish
 * carry "only one object with a product ID", cart one with an ID "and an amount"; the full cart
 * counts with `quantity` (api-notes.md), a purchase line has `amount` and may have `price`,
 * `line_id` and `fashion_size`.
 */
import { listOf, may, must, shaped, type Check } from './check.js';
import { anyId, count, money, productId, text } from './values.js';

const id = must(productId);

export const productOnly = shaped({ id }, 'an item {id}');
export const cartLine = shaped({ id, amount: must(count) }, 'a "cart" item {id, amount}');
export const fullCartLine = shaped({ id, quantity: must(count) }, 'a full cart item {id, quantity}');
export const purchaseLine = shaped({ id, amount: must(count), price: may(money), line_id: may(anyId), fashion_size: may(text) }, 'a purchase item');

/** The one item of a single-product event. */
export const oneItem = (item: Check): Check => listOf(item, 1, 1);

/** A non-empty list: a full cart or wishlist clears by leaving `items` out, not by sending []. */
export const someItems = (item: Check, hint: string): Check => listOf(item, 1, Number.POSITIVE_INFINITY, hint);
