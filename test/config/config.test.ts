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
import {cheapHashParams} from '../helpers/hashes.js'

const tempDir = useTempDir()
const file = '/home/jeff/.config/homeauth/config.json'

let valid: HomeauthConfig
let versionTwo: Record<string, unknown>
let versionOne: Record<string, unknown>

beforeAll(async () => {
  const passwordHash = await hashPassword('pw', cheapHashParams)
  valid = {
    version: 3,
    users: [
      {name: 'JeffLynne', passwordHash, passwordSetAt: '2026-11-30T14:03:12.000Z'},
      {name: 'Bev', passwordHash, passwordSetAt: null},
    ],
    secret: 'bXkgc2VjcmV0',
    serve: {port: 8443, san: ['pi.local', '192.168.1.20', 'fd00::1']},
  }
  const topLevelServe = {port: 8443, host: null, sans: valid.serve.san}
  versionTwo = {version: 2, users: valid.users, secret: valid.secret, ...topLevelServe}
  versionOne = {version: 1, username: 'JeffLynne', passwordHash, secret: valid.secret, ...topLevelServe}
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
    const config = {...valid, serve: {host: '127.0.0.1', port: 0}}
    expect(parseConfig(configFile(config).data, file)).toEqual(config)
  })

  it('reads every serve setting that holds a good value', () => {
    const serve = {
      port: 9443,
      host: '192.168.1.20',
      san: ['nas.home.arpa'],
      cert: '/etc/ssl/home.pem',
      key: '/etc/ssl/private/home-key.pem',
      'secret-file': '/srv/message.txt',
      realm: 'Home',
      'frame-ancestors': ['https://dashboard.local:8123', "'self'"],
      'max-failures': 10,
      'failure-window': 600,
      lockout: 30,
      'trust-proxy': ['127.0.0.1', '192.168.1.0/24'],
      'auth-listen': '127.0.0.1:9091',
    }
    expect(parseConfig(JSON.stringify({...valid, serve}), file).serve).toEqual(serve)
  })

  it('keeps only the known fields', () => {
    const json = JSON.stringify({...valid, extra: 'ignored', password: 'plain'})
    expect(parseConfig(json, file)).toEqual(valid)
  })

  const hash = '$scrypt$ln=14,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
  const user = (fields: Record<string, unknown>) => [
    {name: 'JeffLynne', passwordHash: hash, passwordSetAt: null, ...fields},
  ]
  const wrongFields: [keyof HomeauthConfig, unknown, string][] = [
    ['users', [], 'users'],
    ['users', 'JeffLynne', 'users'],
    ['users', ['JeffLynne'], 'users[0]'],
    ['users', user({name: ''}), 'users[0].name'],
    ['users', user({name: 'Jeff:Lynne'}), 'users[0].name'],
    ['users', user({name: 'Jeff\nLynne'}), 'users[0].name'],
    ['users', user({name: 42}), 'users[0].name'],
    ['users', user({passwordHash: 'plain-text'}), 'users[0].passwordHash'],
    ['users', user({passwordHash: hash.replace('ln=14', 'ln=10')}), 'users[0].passwordHash'],
    ['users', user({passwordSetAt: 'yesterday'}), 'users[0].passwordSetAt'],
    ['users', user({passwordSetAt: undefined}), 'users[0].passwordSetAt'],
    ['users', [...user({}), ...user({name: 'Bev'}), ...user({name: 'JeffLynne'})], 'users[2].name'],
    ['version', 0, 'version'],
    ['version', '1', 'version'],
    ['secret', '', 'secret'],
    ['secret', null, 'secret'],
    ['serve', [], 'serve'],
    ['serve', null, 'serve'],
    ['serve', {trust_proxy: ['127.0.0.1']}, 'serve.trust_proxy'],
  ]

  for (const [field, value, named] of wrongFields) {
    it(`refuses "${field}" = ${JSON.stringify(value)}, naming "${named}", with exit code 8`, () => {
      const error = thrown(() => parseConfig(JSON.stringify({...valid, [field]: value}), file))
      const setup = expectSetupError(error, `${file}: "${named}"`)
      expect(setup.suggestions.join('\n')).toContain(file)
    })
  }

  const wrongSettings: [string, unknown][] = [
    ['port', 'abc'],
    ['port', 70000],
    ['port', -1],
    ['port', 8443.5],
    ['host', 5],
    ['host', 'not a host'],
    ['san', ['not a host']],
    ['san', 'pi.local'],
    ['san', [5]],
    ['san', []],
    ['cert', 'relative/home.pem'],
    ['secret-file', ''],
    ['realm', 'Home "sweet" home'],
    ['realm', ''],
    ['frame-ancestors', ['javascript:alert(1)']],
    ['max-failures', 0],
    ['failure-window', '900'],
    ['lockout', 1.5],
    ['trust-proxy', '127.0.0.1'],
    ['trust-proxy', ['0.0.0.0/0']],
    ['trust-proxy', ['proxy.home.arpa']],
    ['auth-listen', '192.168.1.5:9091'],
    ['auth-listen', 'relative/auth.sock'],
    ['auth-listen', 9091],
  ]

  for (const [name, value] of wrongSettings) {
    it(`refuses "serve.${name}" = ${JSON.stringify(value)} in one line naming it, with exit code 8`, () => {
      const json = JSON.stringify({...valid, serve: {...valid.serve, [name]: value}})
      const setup = expectSetupError(
        thrown(() => parseConfig(json, file)),
        `${file}: "serve.${name}": `,
      )
      expect(setup.message).not.toContain('\n')
      expect(setup.suggestions.join('\n')).toContain(`settings reset ${name}`)
    })
  }

  it('refuses a certificate without its key, naming both and the commands that mend it', () => {
    const json = JSON.stringify({...valid, serve: {cert: '/etc/ssl/home.pem'}})
    const setup = expectSetupError(
      thrown(() => parseConfig(json, file)),
      `"serve.cert" and "serve.key" go together`,
    )
    expect(setup.suggestions.join('\n')).toContain('settings reset cert')
  })

  it('leaves out, unchecked, the serve settings it is told to ignore (settings set and reset replace them)', () => {
    const json = JSON.stringify({...valid, serve: {port: 8443, 'auth-listen': '10.0.0.1:9091'}})
    expect(parseConfig(json, file, new Set(['auth-listen'])).serve).toEqual({port: 8443})
  })

  it('refuses two users whose names differ only in their Unicode form', () => {
    const users = [...user({name: 'Zoë'.normalize('NFC')}), ...user({name: 'Zoë'.normalize('NFD')})]
    expectSetupError(
      thrown(() => parseConfig(JSON.stringify({...valid, users}), file)),
      /"users\[1\]\.name" "Zoë" is listed twice/,
    )
  })

  const fields: (keyof HomeauthConfig)[] = ['version', 'users', 'secret', 'serve']

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
    const users = user({name: 'Jeff:Lynne'})
    const error = thrown(() => parseConfig(JSON.stringify({...valid, users}), file))
    expect(expectSetupError(error, '"users[0].name"').message).not.toMatch(/\.\.$/)
  })

  it('refuses text that is not JSON, naming the file', () => {
    for (const json of ['', '{', '{"version": 2,}', 'version=2']) {
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
          // A user's own fields are named inside the list ("users[0].name"); a newer version as such;
          // version 1 asks for version 1's fields.
          const newer = field === 'version' && Number.isInteger(value) && (value as number) > 3
          const older = field === 'version' && (value === 1 || value === 2)
          expectSetupError(
            error,
            newer ? 'written by a newer homeauth' : older ? /"username"|"port"/ : `"${field}`,
          )
        }
      }),
      {numRuns: 1000},
    )
  })
})

describe('config versions', () => {
  it('reads a version-1 config as one user whose password time is unknown', () => {
    expect(parseConfig(JSON.stringify(versionOne), file)).toEqual({
      version: 3,
      users: [{name: 'JeffLynne', passwordHash: versionOne.passwordHash, passwordSetAt: null}],
      secret: valid.secret,
      serve: valid.serve,
    })
  })

  it('reads a version-2 config (no serve section) with its port, host and host names as serve settings', () => {
    expect(parseConfig(JSON.stringify(versionTwo), file)).toEqual(valid)
    const bound = {...versionTwo, host: '127.0.0.1', port: 0, sans: []}
    expect(parseConfig(JSON.stringify(bound), file).serve).toEqual({port: 0, host: '127.0.0.1'})
  })

  const versionTwoWrong: [string, unknown][] = [
    ['port', 'abc'],
    ['port', 70000],
    ['port', undefined],
    ['host', 'not a host'],
    ['sans', ['not a host']],
    ['sans', 'pi.local'],
  ]
  for (const [field, value] of versionTwoWrong) {
    it(`refuses a version-2 config whose "${field}" is ${JSON.stringify(value)}, naming it`, () => {
      expectSetupError(
        thrown(() => parseConfig(JSON.stringify({...versionTwo, [field]: value}), file)),
        `${file}: "${field}"`,
      )
    })
  }

  it('writes what it read from version 2 as version 3, the settings in the serve section', () => {
    const written = JSON.parse(configFile(parseConfig(JSON.stringify(versionTwo), file)).data) as Record<
      string,
      unknown
    >
    expect(written).toEqual({...valid})
    expect(written).not.toHaveProperty('port')
    expect(written).not.toHaveProperty('sans')
  })

  it('reads a version-1 user name in its NFC form', () => {
    const config = parseConfig(JSON.stringify({...versionOne, username: 'Zoë'.normalize('NFD')}), file)
    expect(config.users[0]!.name).toBe('Zoë'.normalize('NFC'))
  })

  it('writes what it read from version 1 as version 3', () => {
    const written = JSON.parse(configFile(parseConfig(JSON.stringify(versionOne), file)).data) as Record<
      string,
      unknown
    >
    expect(written.version).toBe(3)
    expect(written).not.toHaveProperty('username')
    expect(written).not.toHaveProperty('passwordHash')
    expect(parseConfig(JSON.stringify(written), file)).toEqual(parseConfig(JSON.stringify(versionOne), file))
  })

  const versionOneWrong: [string, unknown][] = [
    ['username', ''],
    ['username', 'Jeff:Lynne'],
    ['username', undefined],
    ['passwordHash', 'plain-text'],
    ['port', 'abc'],
  ]
  for (const [field, value] of versionOneWrong) {
    it(`refuses a version-1 config whose "${field}" is ${JSON.stringify(value)}, naming it`, () => {
      expectSetupError(
        thrown(() => parseConfig(JSON.stringify({...versionOne, [field]: value}), file)),
        `${file}: "${field}"`,
      )
    })
  }

  it('refuses a config written by a newer homeauth in one line, whatever its fields, with exit code 8', () => {
    for (const newer of [
      {...valid, version: 4},
      {version: 17, people: {}},
    ]) {
      const error = expectSetupError(
        thrown(() => parseConfig(JSON.stringify(newer), file)),
        `${file} was written by a newer homeauth (config version ${newer.version}; this one reads up to 3).`,
      )
      expect(error.message).not.toContain('\n')
      expect(error.suggestions).toEqual(['Upgrade homeauth to use this configuration.'])
    }
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
    writeFileSync(configJson, JSON.stringify({...valid, serve: {port: 'abc'}}), {mode: 0o600})
    chmodSync(configJson, 0o600)
    expectSetupError(await rejection(readConfig(dir)), `${configJson}: "serve.port"`)
  })
})
