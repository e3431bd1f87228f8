import {describe, expect, it} from 'vitest'

import {detectPlatform, guidesFor} from '../../src/certificates/platforms.js'

const agents = {
  ios: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  android:
    'Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  macos:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  windows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  linux: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
} as const

describe('detectPlatform', () => {
  it.each(Object.entries(agents))('recognises %s from its browser User-Agent', (platform, agent) => {
    expect(detectPlatform(agent)).toBe(platform)
  })

  it('names no platform for curl or a missing User-Agent', () => {
    expect(detectPlatform('curl/8.5.0')).toBeUndefined()
    expect(detectPlatform(undefined)).toBeUndefined()
  })
})

describe('guidesFor', () => {
  it('puts the detected platform first and keeps every other one', () => {
    const guides = guidesFor(agents.android)
    expect(guides[0]!.platform).toBe('android')
    expect(guides[0]!.format).toBe('der')
    expect(guides.map((guide) => guide.platform).sort()).toEqual([
      'android',
      'ios',
      'linux',
      'macos',
      'windows',
    ])
  })

  it('tells iOS users to switch on full trust after installing the profile', () => {
    const [ios] = guidesFor(agents.ios)
    expect(ios!.format).toBe('mobileconfig')
    expect(ios!.steps.join(' ')).toContain('Certificate Trust Settings')
  })
})
