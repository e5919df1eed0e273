/**
 * A sender on a shared budget: every attempt first claims a slot (the state database's import budget, shared by all
 * jobs, shards and processes of the shop) and waits for it, then goes out. Used for the secret-bearing imports.
 */
import type { ApiRequest } from '../payloads/index.js';
import type { Sender } from './queue.js';
import { sleep } from './timers.js';

/** Claims the next slot; answers the milliseconds to wait before starting. */
export type ClaimSlot = () => Promise<number>;

export class BudgetedSender implements Sender {
  constructor(
    private readonly inner: Sender,
    private readonly claim: ClaimSlot,
  ) {}

  async send(req: ApiRequest): Promise<unknown> {
    const waitMs = await this.claim();
    if (waitMs > 0) await sleep(waitMs);
    return this.inner.send(req);
  }
}
