/**
 * Text for a Slack-compatible chat, done to the whole message (the webhook's messages carry no link of their own):
 *
 * - Markup. Slack reads `<…>` as markup (`<!channel>` and `<!here>` notify everyone, `<https://…|text>` is a link
 *   showing other text, `<@U…>` mentions a person) and `&` as the start of an entity. Its docs ("Escaping text") ask
 *   for exactly three replacements: & → &amp;, < → &lt;, > → &gt;.
 * - Bare links. Slack turns a bare `https://evil.example/login`, `www.evil.example` or `evil.com/login` into a link
 *   by itself, under the connector's name. So every `://` becomes `[:]//`, and every dot of a name that looks like
 *   a domain (labels joined by dots, the last all letters) or of an IPv4 address becomes `[.]`, the way security
 *   reports write such addresses ("defanged"): an operator still reads `https[:]//evil[.]example/login`, and nobody
 *   clicks it.
 *   Names of settings (`personaclick[.]url`) and files (`config[.]yaml`) are written so too: Slack links some of them
 *   (`.md`, `.sh` and `.py` are countries' domains), and telling which would need its list of domains.
 *
 * No text from the shop or the API can then notify a channel or show a link, disguised or bare.
 */

/** A name that looks like a domain: labels of letters, digits and `-` joined by dots, the last of 2-63 letters. */
const DOMAIN = /(?<![\p{L}\p{N}-])[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,63}(?![\p{L}\p{N}-])/gu;
/** An IPv4 address (`10.0.0.1`): four numbers joined by dots. */
const IPV4 = /(?<![0-9.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9])/g;

/** Bare URLs and domain-like names made text a chat does not link: `https[:]//evil[.]example/login`. */
function unlinked(text: string): string {
  const defanged = (name: string) => name.replaceAll('.', '[.]');
  return text.replaceAll('://', '[:]//').replace(DOMAIN, defanged).replace(IPV4, defanged);
}

/** The message as a chat shows it: its markup escaped and its links unlinked. */
export function chatSafe(text: string): string {
  return unlinked(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
