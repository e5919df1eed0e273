/**
 * Text for a Slack-compatible chat: Slack reads `<…>` as markup (`<!channel>` and `<!here>` notify everyone,
 * `<https://…|text>` is a link showing other text, `<@U…>` mentions a person) and `&` as the start of an entity. Its
 * docs ("Escaping text") ask for exactly three replacements: & → &amp;, < → &lt;, > → &gt;. Done to the whole
 * message, no text from the shop or the API can notify a channel or show a link that is not what it says.
 */
export function chatSafe(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
