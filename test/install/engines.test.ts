import {readFileSync} from 'node:fs'
import path from 'node:path'

import semver from 'semver'
import {describe, expect, it} from 'vitest'

import {projectDir} from '../helpers/cli.js'

interface LockedPackage {
  engines?: {node?: string}
}

const manifest = JSON.parse(readFileSync(path.join(projectDir, 'package.json'), 'utf8')) as {
  engines: {node: string}
}
const lock = JSON.parse(readFileSync(path.join(projectDir, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>
}
const ciRun = readFileSync(path.join(projectDir, '.ci', 'run'), 'utf8')

/** The locked packages (runtime and toolchain) whose `engines` leave out part of `range`. */
function packagesRefusing(range: string): string[] {
  return Object.entries(lock.packages)
    .filter(([name, locked]) => name !== '' && locked.engines?.node !== undefined)
    .filter(([, locked]) => !semver.subset(range, locked.engines!.node!))
    .map(([name, locked]) => `${name.replace(/^.*node_modules\//, '')} (${locked.engines!.node})`)
}

describe("package.json's engines", () => {
  it('admits only Node versions every installed package admits', () => {
    expect(packagesRefusing(manifest.engines.node)).toEqual([])
  })

  it('would be caught admitting a Node version a package refuses', () => {
    expect(packagesRefusing('>=20.17').length).toBeGreaterThan(0)
  })

  it('admits the Node majors CI runs the suite on, and this one', () => {
    const majors = /^for major in ([\d ]+);/m.exec(ciRun)?.[1]?.split(' ')
    expect(majors?.length).toBeGreaterThan(0)
    for (const major of majors!) expect(semver.intersects(`${major}.x`, manifest.engines.node)).toBe(true)
    expect(semver.satisfies(process.version, manifest.engines.node)).toBe(true)
  })
})
