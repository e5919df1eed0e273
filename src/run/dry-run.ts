/**
 * A dry run may look at a state schema that does not exist yet (before `migrate`): then nothing is delivered, no
 * watermark is set and there is no ledger. Reads of the state go through these two wrappers, which answer "nothing"
 * in exactly that case; a real run, or any other error, still fails.
 */
import { isUndefinedTable } from '../state/db.js';

function unmigratedInDryRun(dryRun: boolean, caught: unknown): boolean {
  return dryRun && isUndefinedTable(caught);
}

/** `read()`, or undefined when a dry run finds no state schema. */
export async function readState<T>(dryRun: boolean, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (caught) {
    if (unmigratedInDryRun(dryRun, caught)) return undefined;
    throw caught;
  }
}

/** The pages of `pages`, or none when a dry run finds no state schema. */
export async function* readStatePages<T>(dryRun: boolean, pages: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* pages;
  } catch (caught) {
    if (unmigratedInDryRun(dryRun, caught)) return;
    throw caught;
  }
}
