import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {escapeControl} from '../../src/ui/escape.js'

/** Characters a terminal or log viewer acts on or hides: controls, format characters, line and paragraph separators. */
const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u

describe('escapeControl', () => {
  it('shows control characters and backslashes as escapes, so a log line cannot be forged', () => {
    expect(escapeControl('alice\n2026-01-01 GET / 200 admin')).toBe('alice\\x0a2026-01-01 GET / 200 admin')
    expect(escapeControl('a\u001b[31mred\u0000\\')).toBe('a\\x1b[31mred\\x00\\\\')
    expect(escapeControl('Zoë')).toBe('Zoë')
  })

  it('shows bidirectional controls as escapes, so a user name cannot reorder the rest of its line', () => {
    expect(escapeControl('admin\u202e -> 200 GET\u202c')).toBe('admin\\u{202e} -> 200 GET\\u{202c}')
    for (const char of ['\u202a', '\u202b', '\u202d', '\u2066', '\u2067', '\u2068', '\u2069'])
      expect(escapeControl(char)).toBe(`\\u{${char.codePointAt(0)!.toString(16)}}`)
    expect(escapeControl('\u200e\u200f\u061c')).toBe('\\u{200e}\\u{200f}\\u{61c}')
  })

  it('shows invisible format characters and line separators as escapes', () => {
    expect(escapeControl('ad\u200bmin\u200c\u200d\u2060\ufeff')).toBe(
      'ad\\u{200b}min\\u{200c}\\u{200d}\\u{2060}\\u{feff}',
    )
    expect(escapeControl('alice\u2028forged\u2029line')).toBe('alice\\u{2028}forged\\u{2029}line')
    expect(escapeControl('tag\u{e0041}')).toBe('tag\\u{e0041}')
    expect(escapeControl('soft\u00adhyphen')).toBe('soft\\xadhyphen')
  })

  it('leaves visible text alone, other scripts and emoji included', () => {
    for (const text of ['Zoë', 'Ģirts', 'مريم', 'אבי', '李雷', 'Ärzte/Übersicht', '🏠🔐'])
      expect(escapeControl(text)).toBe(text)
  })

  it('never outputs a control, format or separator character, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), (text) => {
        expect(escapeControl(text)).not.toMatch(invisible)
      }),
      {numRuns: 2000},
    )
  })

  it('escapes distinct inputs to distinct outputs, so a forged escape cannot pass for a real one', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), fc.string({unit: 'binary'}), (a, b) => {
        fc.pre(a !== b)
        expect(escapeControl(a)).not.toBe(escapeControl(b))
      }),
      {numRuns: 2000},
    )
  })
})
