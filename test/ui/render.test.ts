import {describe, expect, it} from 'vitest'

import {escapeControl} from '../../src/ui/render.js'

describe('escapeControl', () => {
  it('shows control characters and backslashes as escapes, so a log line cannot be forged', () => {
    expect(escapeControl('alice\n2026-01-01 GET / 200 admin')).toBe('alice\\x0a2026-01-01 GET / 200 admin')
    expect(escapeControl('a\u001b[31mred\u0000\\')).toBe('a\\x1b[31mred\\x00\\\\')
    expect(escapeControl('Zoë')).toBe('Zoë')
  })
})
