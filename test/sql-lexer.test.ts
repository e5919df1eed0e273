/** The one SQL lexer, and the two readers built on it: `:order_ids` found only where it is a parameter. */
import { describe, expect, it } from 'vitest';
import { lexSql } from '../src/source/sql-lexer.js';
import { bindOrderIds, usesOrderIds } from '../src/source/sql-text.js';

const kinds = (text: string, opts?: Parameters<typeof lexSql>[1]) => lexSql(text, opts).map((s) => [s.kind, text.slice(s.start, s.end)]);

describe('lexSql', () => {
  it('cuts code, literals (E-strings with their prefix, dollar quotes), quoted identifiers and nested comments', () => {
    expect(kinds(`a = 'it''s' AND b = E'x\\'y' -- c\n"q""d" /* 1 /* 2 */ 3 */ $t$ '$t$ z`)).toEqual([
      ['code', 'a = '],
      ['string', "'it''s'"],
      ['code', ' AND b = '],
      ['string', "E'x\\'y'"],
      ['code', ' '],
      ['comment', '-- c\n'],
      ['ident', '"q""d"'],
      ['code', ' '],
      ['comment', '/* 1 /* 2 */ 3 */'],
      ['code', ' '],
      ['string', "$t$ '$t$"],
      ['code', ' z'],
    ]);
  });

  it('leaves comments and dollar quotes in code when asked (EXPLAIN output has none)', () => {
    expect(kinds(`a - -1 $x$`, { comments: false, dollarQuotes: false })).toEqual([['code', 'a - -1 $x$']]);
  });

  it('runs an unterminated literal to the end', () => {
    expect(kinds(`x = 'open`)).toEqual([
      ['code', 'x = '],
      ['string', "'open"],
    ]);
  });
});

describe(':order_ids as a parameter', () => {
  it('is found in code only: not in literals, identifiers, comments, casts or longer names', () => {
    expect(usesOrderIds(`SELECT 1 WHERE id = ANY(:order_ids)`)).toBe(true);
    expect(usesOrderIds(`SELECT ':order_ids', ":order_ids", $$:order_ids$$ -- :order_ids\n /* :order_ids */ , x:::order_ids, :order_ids_x`)).toBe(false);
    expect(bindOrderIds(`SELECT ':order_ids' WHERE a = ANY(:order_ids) OR b = ANY(:order_ids::text[])`)).toBe(
      `SELECT ':order_ids' WHERE a = ANY($1) OR b = ANY($1::text[])`,
    );
  });
});
