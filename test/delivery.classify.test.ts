/**
 * The success rules per path and the status rules (src/delivery/classify.ts), against what the API documents
 * (spec/api-notes.md, "Responses and errors" and the order-sync API's answers), written out here case by case.
 */
import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifyStatus, successRuleFor, type Answer } from '../src/delivery/classify.js';
import { API_PATHS } from '../src/payloads/validate.js';

const SUCCESS = '{"status":"success"}';
const HTML = '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>';
const answer = (status: number, text = '', truncated = false): Answer => ({ status, text, truncated });

type Case = [status: number, body: string, expected: ReturnType<typeof classifyAnswer>, truncated?: boolean];

/** Per path: documented successes, then 2xx that prove nothing, then refusals in a success's clothes. */
const CASES: Record<string, Case[]> = {
  '/push': [
    [404, '{"status":"error","message":"Shop not found"}', 'fatal'],
    [404, '{"status":"error","message":"Device not found"}', 'rejected'],
    [404, '{"status":"error","payload":{"message":"Unknown did for this shop"}}', 'rejected'],
    [200, SUCCESS, 'success'],
    [200, ' { "status" : "success" }\n', 'success'],
    [200, HTML, 'transient'],
    [200, 'null', 'transient'],
    [200, '', 'transient'],
    [200, '[]', 'transient'],
    [200, '"success"', 'transient'],
    [204, '', 'transient'],
    [200, `{"status":"success","padding":"${'x'.repeat(100)}`, 'transient', true],
    [200, '{"status":"error","message":"Unknown device"}', 'rejected'],
    [200, '{"status":null}', 'rejected'],
  ],
  '/push/custom': [
    [204, '', 'success'],
    [200, SUCCESS, 'success'],
    [200, '', 'transient'],
    [200, HTML, 'transient'],
    [200, 'null', 'transient'],
    [200, '{"status":"error","payload":{"message":"Unknown event"}}', 'rejected'],
  ],
  '/track/clicked': [
    [200, '', 'success'],
    [200, '  \n', 'success'],
    [200, SUCCESS, 'success'],
    [204, '', 'transient'],
    [200, HTML, 'transient'],
    [200, 'null', 'transient'],
    [200, '', 'transient', true],
  ],
  '/sync/orders': [
    [200, SUCCESS, 'success'],
    [200, '', 'transient'],
    [204, '', 'transient'],
    [200, HTML, 'transient'],
    // Queued batches are checked later (errors by e-mail): a non-success status refuses the request, not its orders.
    [200, '{"status":"error","payload":{"message":"Shop not found"}}', 'fatal'],
    // The error matrix: an unknown shop is 404; nothing of the run would succeed.
    [404, '{"status":"error","payload":{"message":"Shop not found"}}', 'fatal'],
    [404, '{"status":"error","message":"Not found"}', 'rejected'],
  ],
  '/no/such/path': [
    [200, SUCCESS, 'success'],
    [200, '', 'transient'],
    [204, '', 'transient'],
  ],
};

describe('success rules, per path', () => {
  for (const [path, cases] of Object.entries(CASES)) {
    it(`${path}: only its documented success is a success`, () => {
      for (const [status, body, expected, truncated] of cases) {
        expect(
          classifyAnswer(path, answer(status, body, truncated ?? false)),
          `${status} ${JSON.stringify(body.slice(0, 40))}${truncated ? ' (cut short)' : ''}`,
        ).toBe(expected);
      }
    });
  }

  it('every path a builder can produce has a rule of its own; /track/* share one', () => {
    for (const path of API_PATHS) expect(successRuleFor(path).path, path).not.toBe('');
    expect(successRuleFor('/track/received')).toBe(successRuleFor('/track/closed'));
    expect(successRuleFor('/sync/orders').path).toBe('/sync/orders');
  });
});

describe('status rules', () => {
  it('a redirect is fatal (the URL is wrong), like 401/403; 429, 408 and 5xx are transient; other 4xx are the data’s fault; other 3xx prove nothing', () => {
    const expected: Record<number, string> = {
      301: 'fatal',
      302: 'fatal',
      303: 'fatal',
      307: 'fatal',
      308: 'fatal',
      401: 'fatal',
      403: 'fatal',
      408: 'transient',
      429: 'transient',
      500: 'transient',
      502: 'transient',
      503: 'transient',
      300: 'transient',
      304: 'transient',
      400: 'rejected',
      404: 'rejected',
      405: 'rejected',
      413: 'rejected',
      422: 'rejected',
    };
    for (const [status, cls] of Object.entries(expected)) {
      expect(classifyStatus(Number(status)), status).toBe(cls);
      expect(classifyAnswer('/push', answer(Number(status), SUCCESS)), `${status} with a success body`).toBe(cls);
    }
  });
});

describe('the catalogue imports', () => {
  it('204 with no body is their success; a 400 (wrong shop_id or shop_secret) is fatal, elsewhere it is the data', () => {
    for (const path of ['/import/products', '/import/categories']) {
      expect(classifyAnswer(path, answer(204, ''))).toBe('success');
      expect(classifyAnswer(path, answer(200, '<html>proxy</html>'))).toBe('transient');
      expect(classifyAnswer(path, answer(400, '{"status":"error"}'))).toBe('fatal');
      expect(classifyAnswer(path, answer(200, '{"status":"error","payload":{"message":"Shop not found"}}'))).toBe('fatal');
      expect(classifyAnswer(path, answer(413, ''))).toBe('rejected');
      expect(classifyAnswer(path, answer(429, ''))).toBe('transient');
    }
    expect(classifyAnswer('/sync/orders', answer(400, '{"status":"error"}'))).toBe('rejected');
  });
});
