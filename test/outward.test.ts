/** outward.ts: the one text every way out shows. Secrets and customers' identifiers masked in every spelling. */
import { describe, expect, it } from 'vitest';
import { makeOutward, maskAll, outwardText, terminalSafeJson } from '../src/outward.js';
import { spellingsOf } from '../src/config/secrets.js';
import { ApiError, FatalApiError } from '../src/errors.js';

const SECRET = 'sh0p+S3cret/&"x';
const secrets = spellingsOf([SECRET]);

describe('outwardText', () => {
  it('masks the secret in every spelling and the customers e-mails and phones', () => {
    const echoes = [
      `HTTP 400: echo POST /purchase {"shop_id":"x","email":"c7@example.com","phone":"89123456789","shop_secret":${JSON.stringify(SECRET)}}`,
      `GET /orders/by_user?${new URLSearchParams({ shop_id: '1', shop_secret: SECRET, email: 'c7@example.com', phone: '+79123456789' }).toString()}`,
      `GET /orders/by_user?shop_secret=${encodeURIComponent(SECRET)}&phone=${encodeURIComponent('+7 (912) 345-67-89')}`,
      JSON.stringify({ reason: `echo {"email":"c7@example.com","phone":"+7 (912) 345-67-89"} ${SECRET}` }),
      `the customer c7@example.com at +7 912 345 67 89 was refused`,
    ];
    for (const echo of echoes) {
      const shown = outwardText(echo, secrets);
      for (const s of [...secrets, 'c7@example.com', 'c7%40example.com', '89123456789', '79123456789', '912) 345-67-89', '345 67 89'])
        expect(shown, echo).not.toContain(s);
      expect(maskAll(echo, secrets)).not.toContain('c7@example.com');
    }
  });

  it('leaves dates, counts and prose alone, and keeps one bounded line', () => {
    expect(outwardText('run 2023-06-01T12:00:00+00:00 read 12345678 rows; email: needs an @', [])).toBe(
      'run 2023-06-01T12:00:00+00:00 read 12345678 rows; email: needs an @',
    );
    expect(outwardText(`a\nb\u001b[31mc${'x'.repeat(5000)}`, [])).toMatch(/^a b\uFFFD\[31mcx+…$/);
    expect(outwardText('x'.repeat(5000), []).length).toBeLessThanOrEqual(2001);
  });

  it('masks 64 KiB of any shape (the most of an answer read) within a second: no long run is scanned again from each of its positions', () => {
    const size = 64 * 1024;
    const shapes = {
      letters: 'x'.repeat(size),
      'a long domain': `a@${'b'.repeat(size)}`,
      'many labels': `a@${'b.'.repeat(size / 2)}`,
      backslashes: '\\'.repeat(size),
      'a JSON string': JSON.stringify({ message: 'y'.repeat(size) }),
    };
    const slow = Object.entries(shapes).flatMap(([shape, text]) => {
      const start = performance.now();
      maskAll(text, secrets);
      const ms = performance.now() - start;
      return ms > 1000 ? [`${shape}: ${Math.round(ms)} ms`] : [];
    });
    expect(slow).toEqual([]);
    // Still masked: an address with the longest local part and labels, and a field's value three levels deep.
    expect(maskAll(`to ${'l'.repeat(64)}@${'d'.repeat(63)}.example.com.`, [])).toBe('to ***.');
    expect(maskAll(String.raw`{"e":"{\\\"phone\\\":\\\"89123456789\\\"}"}`, [])).not.toContain('89123456789');
  });

  it('makes an error outward in place: its class kept, its message, stack, causes and body masked', () => {
    const answer = new ApiError(`HTTP 403: echo ${SECRET} c7@example.com`, 403, 'fatal', `{"email":"c7@example.com"}`);
    const err = makeOutward(new FatalApiError(answer), secrets);
    expect(err).toBeInstanceOf(FatalApiError);
    for (const text of [err.message, err.stack ?? '', answer.message, answer.stack ?? '', answer.body]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('c7@example.com');
    }
  });
});

describe('terminalSafeJson', () => {
  it('escapes DEL and the C1 controls JSON leaves raw (CSI U+009B, OSC U+009D): the same JSON, nothing a terminal acts on', () => {
    const value = { key: 'a\u009b31mred\u009d0;title\u0007\u007fz', n: [1, 'é€😀'] };
    const json = terminalSafeJson(JSON.stringify(value));
    expect(JSON.parse(json)).toEqual(value);
    expect([...json].filter((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f))).toEqual([]);
    expect(json).toContain('\\u009b31mred\\u009d0;title\\u0007\\u007fz');
  });
});
