/**
 * A run from the command line exports its metrics when its runs are over: into node_exporter's textfile
 * (`--metrics-file PATH`) and to a Pushgateway (`metrics.pushgateway`). A process that ran nothing (another runner
 * held the lock, the config was wrong) exports nothing, so what the last run wrote stays as it was.
 */
import { access, constants, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, toError } from '../errors.js';
import type { Logger } from '../log.js';
import { SyncMetrics } from './metrics.js';
import { pushMetrics } from './pushgateway.js';
import { writeTextfile } from './textfile.js';

export interface ExportTargets {
  file?: string | undefined;
  pushgateway?: string | undefined;
  /** The Pushgateway group's instance: what the process runs (its lock name). */
  instance: string;
}

export class MetricsExport {
  readonly metrics = new SyncMetrics();

  constructor(private readonly targets: ExportTargets) {}

  /** The textfile's directory must exist and be writable: found out before the run, not after it. */
  static async open(targets: ExportTargets): Promise<MetricsExport | undefined> {
    if (targets.file === undefined && targets.pushgateway === undefined) return undefined;
    if (targets.file !== undefined) {
      const dir = dirname(targets.file);
      try {
        if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
        await access(dir, constants.W_OK);
      } catch (caught) {
        throw new ConfigError(`--metrics-file: cannot write into ${dir} (${toError(caught).message})`);
      }
      if (!targets.file.endsWith('.prom'))
        throw new ConfigError(`--metrics-file: node_exporter's textfile collector reads only files named *.prom (got ${targets.file})`);
    }
    return new MetricsExport(targets);
  }

  /** Write the textfile and push; each failure is logged and returned as one line for stderr. */
  async flush(log: Logger, ran: boolean): Promise<string[]> {
    if (!ran) return [];
    const text = await this.metrics.text();
    const problems: string[] = [];
    if (this.targets.file !== undefined) {
      try {
        await writeTextfile(this.targets.file, text);
        log.debug({ file: this.targets.file }, 'metrics written');
      } catch (caught) {
        const err = toError(caught);
        log.error({ err, file: this.targets.file }, 'could not write the metrics file');
        problems.push(`metrics: could not write ${this.targets.file}: ${err.message}`);
      }
    }
    if (this.targets.pushgateway !== undefined) {
      try {
        await pushMetrics({ url: this.targets.pushgateway, instance: this.targets.instance }, text, this.metrics.contentType);
        log.debug({ instance: this.targets.instance }, 'metrics pushed');
      } catch (caught) {
        const err = toError(caught);
        log.error({ err }, 'could not push the metrics to the Pushgateway');
        problems.push(`metrics: could not push to the Pushgateway: ${err.message}`);
      }
    }
    return problems;
  }
}
