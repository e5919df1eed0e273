/**
 * The usual frame of a test file, registered as vitest hooks: one sandbox for the file (reset before each test), and
 * a fresh database for each test, cloned from the migrated template, with the sample shop's tables.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { createMigratedDatabase, type TestDatabase } from './pg.js';
import { createShop } from './shop.js';

export interface Frame {
  readonly sandbox: Sandbox;
  readonly db: TestDatabase;
}

export interface FrameOptions {
  sandbox?: SandboxOptions;
  /** Prefix of the per-test database names. */
  prefix?: string;
  /** Create the sample shop's tables in each test's database (default true). */
  shop?: boolean;
}

/**
 * One sandbox for the test file, its records and faults cleared before each test (unless `keepBetweenTests`: for files
 * whose tests judge one run made in a beforeAll).
 */
export function useSandbox(options?: SandboxOptions, keepBetweenTests = false): { readonly sandbox: Sandbox } {
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSandbox(options);
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  beforeEach(() => {
    if (keepBetweenTests) return;
    sandbox?.reset();
    sandbox?.setFaults({});
  });
  return {
    get sandbox() {
      if (!sandbox) throw new Error('the sandbox starts in beforeAll');
      return sandbox;
    },
  };
}

export function useFrame(options: FrameOptions = {}): Frame {
  const api = useSandbox(options.sandbox);
  let db: TestDatabase | undefined;
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    if (db) await db.drop();
    db = await createMigratedDatabase(options.prefix);
    if (options.shop !== false) await createShop(db);
  });
  return {
    get sandbox() {
      return api.sandbox;
    },
    get db() {
      if (!db) throw new Error('the database is made in beforeEach');
      return db;
    },
  };
}
