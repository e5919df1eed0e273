/** The last step of every builder: the body must pass the same schema the sandbox applies. */
import { validateRequest } from './validate.js';
import type { ApiPath, BuildResult, BuildWarning, JsonObject } from './types.js';

export function finish(path: ApiPath, body: JsonObject, warnings: BuildWarning[] = []): BuildResult {
  const valid = validateRequest(path, body);
  return valid.ok ? { ok: true, request: { path, body }, warnings } : valid;
}
