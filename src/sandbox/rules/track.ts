/** `/track/received`, `/track/clicked`, `/track/closed`: no envelope, just these four fields (reference). */
import { must, shaped } from './check.js';
import { stream, text } from './values.js';

export const trackCheck = shaped({ shop_id: must(text), code: must(text), type: must(text), stream: must(stream) }, 'a /track request');
