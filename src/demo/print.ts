/** What every part of the demo report is printed with: a line printer, aligned numbers, indentation, checks. */

export type Print = (text?: string) => void;

export interface Check {
  ok: boolean;
  text: string;
}

export const pad = (n: number): string => String(n).padStart(4);

export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `${by}${line}`))
    .join('\n');
}

/** A request body as JSON a person can read at a glance: one key a line, one array element a line. */
export function compactJson(body: Record<string, unknown>): string {
  const entries = Object.entries(body).map(([key, value]) =>
    Array.isArray(value) && value.length > 0
      ? `  ${JSON.stringify(key)}: [\n${value.map((v) => `    ${JSON.stringify(v)}`).join(',\n')}\n  ]`
      : `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  return `{\n${entries.join(',\n')}\n}`;
}

/** Words filled into lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width = 110): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}
