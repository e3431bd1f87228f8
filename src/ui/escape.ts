/**
 * Shows what a terminal or log viewer would act on or hide as escapes, so a client cannot forge, hide
 * or reorder log lines: controls (Cc) as `\x1b`; format characters (Cf: bidirectional overrides and
 * isolates, zero-width characters, the BOM) and line and paragraph separators (Zl, Zp) as `\u{202e}`.
 * Backslashes are doubled, so no input can pass for an escape.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/gu, (char) => {
    if (char === '\\') return '\\\\'
    const code = char.codePointAt(0)!.toString(16)
    return code.length <= 2 ? `\\x${code.padStart(2, '0')}` : `\\u{${code}}`
  })
}
