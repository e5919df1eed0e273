/** The source role a run reads the shop as: refused when it may do more than read (issue 20 §4, docs/security.md). */
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { privilegeFindings, rolePrivileges } from '../source/privileges.js';
import type { Source } from '../source/db.js';
import type { Services } from './services.js';

/** A source's role does not change while it is open: asked once per source, whatever runs share it (products after categories, the buyers' carts after the orders). */
const asked = new WeakMap<Source, ReturnType<typeof rolePrivileges>>();

/**
 * Least privilege on the shop (issue 20 §4), looked at as every run starts (dry runs too; after the job's own
 * preconditions): a superuser, or a role that may write the shop's tables, is refused unless
 * source.allowPrivilegedRole is set (then the run warns); the lesser findings are a warning in the log.
 */
export async function requireReadOnlyRole(services: Services, log: Logger): Promise<void> {
  const { config } = services;
  let privileges = asked.get(services.source);
  if (privileges === undefined) {
    const source = services.source;
    privileges = rolePrivileges(source, config.state.schema);
    asked.set(source, privileges);
    // A failed question is asked again by the next run (a long-lived `schedule` keeps its source), never kept.
    privileges.catch(() => asked.delete(source));
  }
  const findings = privilegeFindings(await privileges);
  const refused = findings.filter((f) => f.refuse);
  if (refused.length > 0 && !config.source.allowPrivilegedRole) {
    throw new ConfigError(
      `refused: the source role may do more than read (${refused.map((f) => f.problem).join('; ')}). Connect as a read-only role (docs/security.md), or set source.allowPrivilegedRole: true`,
    );
  }
  for (const f of findings) log.warn({ privileged: true, allowed: f.refuse ? true : undefined }, `source role: ${f.problem}`);
}
