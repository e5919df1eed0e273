/**
 * `/push/custom`: the envelope, the custom event key (pre-created in the account; the reference sets
 * no character rule on it, so any non-empty string passes), optional `category` and `label`, an
 * integer `value`, and `time` in Unix seconds to date an event in the past (api-notes.md).
 */
import { may, must, shaped } from './check.js';
import { ENVELOPE } from './envelope.js';
import { integer, text, unixSeconds } from './values.js';

export const customEventCheck = shaped(
  {
    event: must(text),
    ...ENVELOPE,
    category: may(text),
    label: may(text),
    value: may(integer),
    time: may(unixSeconds),
  },
  'a /push/custom request',
);
