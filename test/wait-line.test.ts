/** The line attempts wait in (the overload hold, room on the wire): the request that has tried most goes first. */
import { describe, expect, it } from 'vitest';
import { WaitLine } from '../src/delivery/wait-line.js';

describe('wait line', () => {
  it('lets the one that has tried most go first, and equals in the order they came', async () => {
    const line = new WaitLine();
    const order: string[] = [];
    const join = (name: string, attempts: number) => void line.wait(attempts).then(() => order.push(name));
    join('a first try', 0);
    join('b third try', 2);
    join('c first try', 0);
    join('d second try', 1);
    join('e third try', 2);
    while (line.next()) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['b third try', 'e third try', 'd second try', 'a first try', 'c first try']);
    expect(line.next()).toBe(false);
  });

  it('rejects everyone waiting when cleared', async () => {
    const line = new WaitLine();
    const waiting = [line.wait(0), line.wait(3)];
    line.clear(new Error('stopping'));
    for (const w of waiting) await expect(w).rejects.toThrow('stopping');
    expect(line.length).toBe(0);
  });
});
