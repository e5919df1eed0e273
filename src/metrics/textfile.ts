/**
 * node_exporter's textfile collector reads every `*.prom` file of its directory at each scrape. A run from cron
 * writes its metrics there when it ends: into a temporary file of the same directory (a name the collector skips),
 * flushed to disk, then renamed over the target, so a scrape sees the old file or the new one, never half of one.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export async function writeTextfile(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const file = await open(temp, 'w', 0o644);
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (caught) {
    await unlink(temp).catch(() => undefined);
    throw caught;
  }
}
