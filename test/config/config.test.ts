import {chmodSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import fc from 'fast-check'
import {beforeAll, describe, expect, it} from 'vitest'

import {
  configFile,
  parseConfig,
  readConfig,
  requireConfig,
  type HomeauthConfig,
} from '../../src/config/config.js'
import {withConfigLock} from '../../src/config/files.js'
import {hashPassword} from '../../src/credentials/hash.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {homeauthCommand} from '../../src/invocation.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const file = '/home/jeff/.config/homeauth/config.json'

let valid: HomeauthConfig

beforeAll(async () => {
  valid = {
    version: 1,
    username: 'JeffLynne',
    passwordHash: await hashPassword('pw', {logN: 14, r: 8, p: 1}),
    secret: 'bXkgc2VjcmV0',
    port: 8443,
    host: null,
    sans: ['pi.local', '192.168.1.20', 'fd00::1'],
  }
})

/** The error `run` throws, failing the test when it throws none. */
function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

function expectSetupError(error: unknown, message: string | RegExp): HomeauthError {
  expect(error).toBeInstanceOf(HomeauthError)
  const setup = error as HomeauthError
  expect(setup.exitCode).toBe(ExitCode.invalidSetup)
  expect(setup.exitCode).toBe(8)
  expect(setup.message).toMatch(message)
  return setup
}

describe('parseConfig', () => {
  it('round-trips a valid config through configFile', () => {
    const written = configFile(valid)
    expect(written.name).toBe('config.json')
    expect(written.mode).toBe(0o600)
    expect(parseConfig(written.data, file)).toEqual(valid)
  })

  it('accepts a host address and port 0', () => {
    const config = {...valid, host: '127.0.0.1', port: 0}
    expect(parseConfig(configFile(config).data, file)).toEqual(config)
  })

  it('keeps only the known fields', () => {
    const json = JSON.stringify({...valid, extra: 'ignored', password: 'plain'})
    expect(parseConfig(json, file)).toEqual(valid)
  })

  const wrongFields: [keyof HomeauthConfig, unknown][] = [
    ['port', 'abc'],
    ['port', 70000],
    ['port', -1],
    ['port', 8443.5],
    ['username', ''],
    ['username', 'Jeff:Lynne'],
    ['username', 'Jeff\nLynne'],
    ['username', 42],
    ['passwordHash', 'plain-text'],
    [
      'passwordHash',
      '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    ],
    ['version', 2],
    ['version', '1'],
    ['host', 5],
    ['host', 'not a host'],
    ['sans', ['not a host']],
    ['sans', 'pi.local'],
    ['sans', [5]],
    ['secret', ''],
    ['secret', null],
  ]

  for (const [field, value] of wrongFields) {
    it(`refuses "${field}" = ${JSON.stringify(value)}, naming the field, with exit code 8`, () => {
      const error = thrown(() => parseConfig(JSON.stringify({...valid, [field]: value}), file))
      const setup = expectSetupError(error, `${file}: "${field}"`)
      expect(setup.suggestions.join('\n')).toContain(file)
    })
  }

  const fields: (keyof HomeauthConfig)[] = [
    'version',
    'username',
    'passwordHash',
    'secret',
    'port',
    'host',
    'sans',
  ]

  for (const field of fields) {
    it(`refuses a config without "${field}", naming the field`, () => {
      const partial: Partial<HomeauthConfig> = {...valid}
      delete partial[field]
      expectSetupError(
        thrown(() => parseConfig(JSON.stringify(partial), file)),
        `"${field}"`,
      )
    })
  }

  it('reports a bad user name in one sentence, ending in a single full stop', () => {
    const error = thrown(() => parseConfig(JSON.stringify({...valid, username: 'Jeff:Lynne'}), file))
    expect(expectSetupError(error, '"username"').message).not.toMatch(/\.\.$/)
  })

  it('refuses text that is not JSON, naming the file', () => {
    for (const json of ['', '{', '{"version": 1,}', 'version=1']) {
      expectSetupError(
        thrown(() => parseConfig(json, file)),
        `${file} is not valid JSON`,
      )
    }
  })

  it('refuses JSON that is not an object', () => {
    for (const json of ['[]', JSON.stringify([valid]), 'null', '1', '"config"', 'true']) {
      expectSetupError(
        thrown(() => parseConfig(json, file)),
        `${file} does not hold a JSON object`,
      )
    }
  })

  it('either returns a config or throws a HomeauthError with exit code 8, whatever the text', () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({unit: 'binary'}),
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
    )
    fc.assert(
      fc.property(text, (json) => {
        try {
          parseConfig(json, file)
        } catch (error) {
          expectSetupError(error, file)
        }
      }),
      {numRuns: 1000},
    )
  })

  it('names the field it refuses when one field of a valid config holds any JSON value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        const json = JSON.stringify({...valid, [field]: value})
        try {
          expect(parseConfig(json, file)[field]).toEqual(JSON.parse(JSON.stringify(value)))
        } catch (error) {
          expectSetupError(error, `"${field}"`)
        }
      }),
      {numRuns: 1000},
    )
  })
})

describe('readConfig and requireConfig', () => {
  it('read the config written to the config directory', async () => {
    const dir = tempDir()
    await withConfigLock(dir, ({updateFileSet}) => updateFileSet([configFile(valid)]))
    expect(await readConfig(dir)).toEqual(valid)
    expect(await requireConfig(dir)).toEqual(valid)
  })

  it('readConfig returns undefined when there is no config.json', async () => {
    expect(await readConfig(tempDir())).toBeUndefined()
  })

  it('requireConfig fails with exit code 8 telling the user to run init', async () => {
    const dir = tempDir()
    const error = expectSetupError(await rejection(requireConfig(dir)), 'is not initialised')
    expect(error.message).toContain(dir)
    expect(error.suggestions).toEqual([`Run: ${homeauthCommand('init')}`])
  })

  it('refuses a config.json that others can read, naming the chmod', async () => {
    const dir = tempDir()
    const configJson = path.join(dir, 'config.json')
    writeFileSync(configJson, configFile(valid).data)
    chmodSync(configJson, 0o644)
    const error = expectSetupError(await rejection(readConfig(dir)), /mode 0644/)
    expect(error.suggestions).toEqual([`Run: chmod 600 ${configJson}`])
    await expect(requireConfig(dir)).rejects.toBeInstanceOf(HomeauthError)
  })

  it('reports an invalid config.json as exit code 8, naming the file', async () => {
    const dir = tempDir()
    const configJson = path.join(dir, 'config.json')
    writeFileSync(configJson, JSON.stringify({...valid, port: 'abc'}), {mode: 0o600})
    chmodSync(configJson, 0o600)
    expectSetupError(await rejection(readConfig(dir)), `${configJson}: "port"`)
  })
})
