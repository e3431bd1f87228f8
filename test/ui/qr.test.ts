import {stripVTControlCharacters} from 'node:util'

import {Chalk} from 'chalk'
import {encode} from 'uqr'
import {describe, expect, it} from 'vitest'

import type {Channel, Output} from '../../src/ui/output.js'
import {halfBlockLines, printOnboardingCode, qrModules, quietZone, renderQrCode} from '../../src/ui/qr.js'
import {modulesOf, printedQrCode} from '../helpers/qr.js'

const typicalUrl = 'http://192.168.100.200:8443/'
const longestIpv6Url = 'http://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/'

/** Output whose stdout is (or is not) a terminal, with or without colour; keeps what is written. */
function capturedOutput(isTerminal: boolean, level: 0 | 1 = 1): Output & {text: () => string} {
  let text = ''
  const channel: Channel = {
    line: (line) => void (text += `${line}\n`),
    write: (chunk) => void (text += chunk),
    color: new Chalk({level}),
    isTerminal,
  }
  return {out: channel, err: channel, text: () => text}
}

describe('halfBlockLines', () => {
  it('shows exactly uqr’s modules, two rows per line', () => {
    for (const url of [typicalUrl, longestIpv6Url, 'http://localhost:1/']) {
      const {data} = encode(url, {border: quietZone})
      const lines = halfBlockLines(data)
      expect(lines).toHaveLength(Math.ceil(data.length / 2))
      expect(modulesOf(lines, data.length)).toEqual(data)
    }
  })

  it('uses only half blocks, full blocks and spaces', () => {
    expect(halfBlockLines(qrModules(typicalUrl)).join('')).toMatch(/^[ ▀▄█]+$/)
  })

  it('fits an 80-column terminal, for a typical LAN URL and for the longest IPv6 one', () => {
    expect(halfBlockLines(qrModules(typicalUrl))[0]).toHaveLength(33)
    for (const url of [typicalUrl, longestIpv6Url]) {
      for (const line of halfBlockLines(qrModules(url))) expect(line.length).toBeLessThanOrEqual(80)
    }
  })

  it('surrounds the code with a light quiet zone four modules wide', () => {
    const modules = qrModules(typicalUrl)
    const size = modules.length
    const inQuietZone = (row: number, column: number) =>
      Math.min(row, column, size - 1 - row, size - 1 - column) < quietZone
    for (const [row, line] of modules.entries()) {
      for (const [column, dark] of line.entries()) {
        if (inQuietZone(row, column)) expect(dark, `module ${row},${column}`).toBe(false)
      }
    }
    expect(modules[quietZone]![quietZone]).toBe(true)
    const lines = halfBlockLines(modules)
    expect(lines.slice(0, quietZone / 2)).toEqual(Array(quietZone / 2).fill('█'.repeat(size)))
    for (const line of lines.slice(0, -1)) {
      expect([line.slice(0, quietZone), line.slice(-quietZone)]).toEqual(['████', '████'])
    }
  })
})

describe('renderQrCode', () => {
  it('draws light modules bright white on black when colour is on, so any terminal theme shows the same code', () => {
    const lines = renderQrCode(typicalUrl, new Chalk({level: 1}))
    const plain = halfBlockLines(qrModules(typicalUrl))
    expect(lines).toEqual(plain.map((line) => `\u001b[97m\u001b[40m${line}\u001b[49m\u001b[39m`))
  })

  it('writes the bare half blocks without colour', () => {
    expect(renderQrCode(typicalUrl, new Chalk({level: 0}))).toEqual(halfBlockLines(qrModules(typicalUrl)))
  })
})

describe('printOnboardingCode', () => {
  const urls = {urls: [typicalUrl, 'http://[fd00::2]:8443/'], localUrl: 'http://localhost:8443/'}

  it('prints the code of the first URL and names that URL at a terminal', () => {
    const output = capturedOutput(true)
    printOnboardingCode(output, urls)
    const printed = printedQrCode(output.text())
    expect(printed?.url).toBe(typicalUrl)
    expect(printed?.lines).toEqual(halfBlockLines(qrModules(typicalUrl)))
    expect(stripVTControlCharacters(output.text())).not.toContain('[fd00::2]')
  })

  it('prints nothing when stdout is not a terminal', () => {
    const output = capturedOutput(false, 0)
    printOnboardingCode(output, urls)
    expect(output.text()).toBe('')
  })

  it('says in one line that a server on loopback only cannot be reached from other devices', () => {
    const output = capturedOutput(true)
    printOnboardingCode(output, {urls: [], localUrl: 'http://localhost:8443/', loopbackHost: '127.0.0.1'})
    expect(output.text()).toBe(
      'No QR code: the server listens on 127.0.0.1 only, which other devices cannot reach (serve without --host listens on all interfaces).\n',
    )
  })

  it('says in one line that the machine has no LAN address', () => {
    const output = capturedOutput(true)
    printOnboardingCode(output, {urls: [], localUrl: 'http://localhost:8443/'})
    expect(output.text()).toBe('No QR code: this machine has no LAN address the server can be reached on.\n')
  })
})
