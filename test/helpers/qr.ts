import {stripVTControlCharacters} from 'node:util'

/** Whether each half of a half-block character is a light module: [upper, lower]. */
const lightHalves: Record<string, [boolean, boolean]> = {
  ' ': [false, false],
  '▄': [false, true],
  '▀': [true, false],
  '█': [true, true],
}

/** The modules (true = dark) that half-block lines show, `rows` of them (the last line's lower half may be padding). */
export function modulesOf(lines: string[], rows: number): boolean[][] {
  const modules = lines.flatMap((line) => {
    const halves = [...line].map((char) => {
      const light = lightHalves[char]
      if (!light) throw new Error(`${JSON.stringify(char)} is not a half block`)
      return light
    })
    return [halves.map(([upper]) => !upper), halves.map(([, lower]) => !lower)]
  })
  return modules.slice(0, rows)
}

/**
 * The QR code a command printed to a terminal, colours removed: the half-block lines right above
 * "Scan with your phone: URL", and that URL; undefined when there is none.
 */
export function printedQrCode(output: string): {url: string; lines: string[]} | undefined {
  const lines = stripVTControlCharacters(output).split(/\r?\n/)
  const scanLine = lines.findIndex((line) => line.startsWith('Scan with your phone: '))
  if (scanLine === -1) return undefined
  const code: string[] = []
  for (let index = scanLine - 1; index >= 0 && /^[ ▀▄█]+$/.test(lines[index]!); index--) {
    code.unshift(lines[index]!)
  }
  return {url: lines[scanLine]!.slice('Scan with your phone: '.length), lines: code}
}
