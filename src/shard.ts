/**
 * Scale-out: `--shard i/N` (0-based), or `--shards N` with the Kubernetes Indexed Job's JOB_COMPLETION_INDEX. A shard
 * takes the rows whose key hashes to its index; the source's pages and the ledger's use the one predicate below, so a
 * device's snapshot lines and its ledger row always fall in the same shard.
 */
import { ConfigError } from './errors.js';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(shard: string | undefined, shards: string | undefined, env: NodeJS.ProcessEnv): Shard | undefined {
  if (shard !== undefined && shards !== undefined) throw new ConfigError('--shard and --shards: give one of them, not both');
  if (shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(shard);
    if (!m) throw new ConfigError(`--shard: must be i/N with 0 <= i < N, e.g. 0/4 (got "${shard}")`);
    return check(Number(m[1]), Number(m[2]), `--shard ${shard}`);
  }
  if (shards !== undefined) {
    if (!/^\d+$/.test(shards)) throw new ConfigError(`--shards: must be a whole number of at least 1 (got "${shards}")`);
    const raw = env.JOB_COMPLETION_INDEX;
    if (raw === undefined || !/^\d+$/.test(raw))
      throw new ConfigError(
        `--shards: needs JOB_COMPLETION_INDEX, the pod's index in a Kubernetes Indexed Job (got ${raw === undefined ? 'nothing' : `"${raw}"`})`,
      );
    return check(Number(raw), Number(shards), `JOB_COMPLETION_INDEX=${raw} with --shards ${shards}`);
  }
  return undefined;
}

function check(index: number, count: number, what: string): Shard | undefined {
  if (count < 1 || count > 1024) throw new ConfigError(`${what}: the shard count must be from 1 to 1024`);
  if (index >= count) throw new ConfigError(`${what}: the shard index must be below the shard count (0-based)`);
  return count === 1 ? undefined : { index, count };
}

/** "2/4" for logs and the runs table; undefined for an unsharded run. */
export function shardLabel(shard: Shard | undefined): string | undefined {
  return shard ? `${shard.index}/${shard.count}` : undefined;
}

/** A name made shard-specific: "orders" → "orders#2/4". */
export function withShard(name: string, shard: Shard | undefined): string {
  return shard ? `${name}#${shard.index}/${shard.count}` : name;
}

/** How many shards share the job: a budget for the whole job (a rate, say) is this many times a shard's. */
export function shardCount(shard: Shard | undefined): number {
  return shard?.count ?? 1;
}

/**
 * The SQL condition that keeps a shard's rows: `keyText` is an SQL expression of type text (the key), `bind` turns a
 * value into a placeholder of the caller's dialect (`$3` for node-postgres, `?` for knex). Undefined when unsharded.
 */
export function shardPredicate(keyText: string, shard: Shard | undefined, bind: (value: number) => string): string | undefined {
  if (!shard || shard.count <= 1) return undefined;
  return `mod(abs(hashtext(${keyText})::bigint), ${bind(shard.count)}) = ${bind(shard.index)}`;
}
