// Messages a command prints can quote what came from a file or another server (an import line's
// field names, a sync source's error): control characters in them are shown escaped, never sent
// to the terminal, so that no input can move the cursor, clear the screen or fake a line. The
// command's own progress lines keep their escapes: only quoted text goes through here.

// C0 and C1 controls, DEL, and the bidirectional overrides and isolates (which reorder the text
// shown around them).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character written as `\u{…}`; beyond `maxChars` (a field name can be
 * as long as its line) cut, and `…` said so.
 */
export function printable(text: string, maxChars = Infinity): string {
  const shown = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return shown.replace(CONTROL, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
