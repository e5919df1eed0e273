/**
 * Text from outside made storable (src/storable-text.ts), checked by a real Postgres: what it gives goes into a text
 * column of a UTF8 database (asciiText's into a LATIN1 one) and comes back unchanged, where the raw text is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiText, storableText } from '../src/storable-text.js';
import { failuresInAscii, isDataException } from '../src/state/unstorable-failures.js';
import { createDatabase, type TestDatabase } from './support/pg.js';

const NUL = String.fromCharCode(0);
const ESC = String.fromCharCode(0x1b);
const HIGH = String.fromCharCode(0xd83d);
const LOW = String.fromCharCode(0xde00);
const NASTY = `Unknown product ${NUL}P7${NUL} in ${ESC}[31mline${ESC}[0m 2\r\n\tlone ${HIGH} and ${LOW}, pair ${HIGH}${LOW}, DEL ${String.fromCharCode(0x7f)}, C1 ${String.fromCharCode(0x9b)}`;

let utf8: TestDatabase;
let latin1: TestDatabase;

beforeAll(async () => {
  utf8 = await createDatabase('pcs_text');
  latin1 = await createDatabase('pcs_text_latin1', { latin1: true });
  for (const db of [utf8, latin1]) await db.query(`CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)`);
});
afterAll(async () => {
  await utf8.drop();
  await latin1.drop();
});

async function roundTrip(db: TestDatabase, id: number, text: string): Promise<string | undefined> {
  await db.query(`INSERT INTO t (id, v) VALUES ($1, $2)`, [id, text]);
  const [row] = await db.query<{ v: string }>(`SELECT v FROM t WHERE id = $1`, [id]);
  return row?.v;
}

describe('storableText', () => {
  it('NUL, other control characters and lone surrogates become U+FFFD, line breaks and tabs a space; a well-formed pair stays', () => {
    expect(storableText(NASTY)).toBe(
      'Unknown product \uFFFDP7\uFFFD in \uFFFD[31mline\uFFFD[0m 2 lone \uFFFD and \uFFFD, pair \u{1F600}, DEL \uFFFD, C1 \uFFFD',
    );
    expect(storableText('plain text, ünïcödé, 漢字')).toBe('plain text, ünïcödé, 漢字');
  });

  it('is bounded: cut to maxChars with "…", never between the halves of a surrogate pair', () => {
    expect(storableText('a'.repeat(2000))).toBe(`${'a'.repeat(1000)}…`);
    expect(storableText(`${'a'.repeat(9)}\u{1F600}b`, 10)).toBe(`${'a'.repeat(9)}…`);
    expect(storableText(`${'a'.repeat(8)}\u{1F600}b`, 10)).toBe(`${'a'.repeat(8)}\u{1F600}…`);
  });

  it('Postgres (UTF8) refuses the raw text and stores what storableText gives unchanged', async () => {
    await expect(roundTrip(utf8, 1, NASTY)).rejects.toMatchObject({ code: '22021' });
    const safe = storableText(NASTY);
    expect(await roundTrip(utf8, 2, safe)).toBe(safe);
  });
});

describe('asciiText (the checkpoint’s last resort)', () => {
  it('keeps printable ASCII, writes every other UTF-16 unit as \\uXXXX, and is bounded', () => {
    expect(asciiText('Товар не найден: P7')).toBe('\\u0422\\u043e\\u0432\\u0430\\u0440 \\u043d\\u0435 \\u043d\\u0430\\u0439\\u0434\\u0435\\u043d: P7');
    expect(asciiText(`a${NUL}b${HIGH}`)).toBe('a\\u0000b\\ud83d');
    expect(asciiText('x'.repeat(50), 10)).toBe(`${'x'.repeat(10)}...`);
  });

  it('a LATIN1 database refuses Cyrillic and stores its asciiText', async () => {
    const text = 'HTTP 400: Товар не найден';
    const refused = await roundTrip(latin1, 1, text).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDataException(refused)).toBe(true);
    const [escaped] = failuresInAscii(refused, [{ key: '3', class: 'rejected', reason: text, status: 400 }]) ?? [];
    expect(escaped?.reason).toMatch(/^HTTP 400: \\u0422.* \[escaped to ASCII: the state database refused the text, SQLSTATE 22P05\]$/);
    expect(await roundTrip(latin1, 2, escaped?.reason ?? '')).toBe(escaped?.reason);
  });

  it('other errors (a lost connection, a unique violation) are not data exceptions: no escaped retry', () => {
    expect(failuresInAscii({ code: '57P01' }, [{ key: '1', class: 'rejected', reason: 'x' }])).toBeUndefined();
    expect(failuresInAscii({ code: '23505' }, [{ key: '1', class: 'rejected', reason: 'x' }])).toBeUndefined();
    expect(failuresInAscii({ code: '22021' }, [])).toBeUndefined();
  });
});
