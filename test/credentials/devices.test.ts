import {describe, expect, it} from 'vitest'

import {
  createDeviceVerifier,
  devicePasswordHash,
  isDevicePasswordHash,
  newDeviceKey,
  newDevicePassword,
} from '../../src/credentials/devices.js'

const key = newDeviceKey()
const device = (name: string, user: string, password: string) => ({
  name,
  user,
  passwordHash: devicePasswordHash(key, password),
})

describe('device passwords', () => {
  it('are 7 dash-separated groups of 4 lower-case letters and digits without look-alikes: ≥ 128 bits', () => {
    const passwords = Array.from({length: 200}, newDevicePassword)
    for (const password of passwords) expect(password).toMatch(/^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){6}$/)
    expect(28 * Math.log2(31)).toBeGreaterThanOrEqual(128)
    expect(new Set(passwords).size).toBe(passwords.length)
    // Every one of the 31 symbols turns up: none is left out of the draw.
    expect(new Set(passwords.join('').replaceAll('-', '')).size).toBe(31)
  })

  it('are stored as an HMAC under the key, never as the password', () => {
    const password = newDevicePassword()
    const hash = devicePasswordHash(key, password)
    expect(isDevicePasswordHash(hash)).toBe(true)
    expect(hash).not.toContain(password)
    expect(devicePasswordHash(newDeviceKey(), password)).not.toBe(hash)
    expect(isDevicePasswordHash('$scrypt$ln=15,r=8,p=3$abc$def')).toBe(false)
  })

  it('identify the device for its own user only, as typed on a phone (capitals, spaces for dashes)', () => {
    const phone = newDevicePassword()
    const tablet = newDevicePassword()
    const verifier = createDeviceVerifier(key, [
      device('phone', 'Bev', phone),
      device('tablet', 'Bev', tablet),
    ])
    expect(verifier.identify({username: 'Bev', password: phone})?.name).toBe('phone')
    expect(verifier.identify({username: 'Bev', password: tablet})?.name).toBe('tablet')
    const typed = phone[0]!.toUpperCase() + phone.slice(1).replaceAll('-', ' ')
    expect(verifier.identify({username: 'Bev', password: typed})?.name).toBe('phone')
    expect(verifier.identify({username: 'JeffLynne', password: phone})).toBeUndefined()
    expect(verifier.identify({username: 'Bev', password: `${phone}x`})).toBeUndefined()
    expect(verifier.identify({username: 'Bev', password: 'Bevan on cello'})).toBeUndefined()
  })
})
