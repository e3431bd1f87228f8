import {PassThrough, Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {
  checkNewPassword,
  givenNewPassword,
  readFirstLine,
  resolveCredentials,
  type CredentialInputs,
} from '../../src/credentials/sources.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import type {Prompts} from '../../src/prompts.js'

function stdinWith(text: string | undefined): PassThrough {
  const stream = new PassThrough()
  if (text !== undefined) stream.end(text)
  return stream
}

const noPrompts: Prompts = {
  input: () => Promise.reject(new Error('must not prompt')),
  password: () => Promise.reject(new Error('must not prompt')),
  confirm: () => Promise.reject(new Error('must not prompt')),
  tell: () => {
    throw new Error('must not tell')
  },
}

/** Without `prompts` in the overrides, nobody is at a terminal: the command seam hands none. */
function inputs(overrides: Partial<CredentialInputs>): CredentialInputs {
  return {env: {}, stdin: stdinWith(''), ...overrides}
}

async function usageFailure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((caught: unknown) => caught)
  expect(error).toBeInstanceOf(HomeauthError)
  expect((error as HomeauthError).exitCode).toBe(ExitCode.usage)
  return (error as HomeauthError).message
}

describe('readFirstLine', () => {
  it('strips exactly one trailing \\n or \\r\\n and ignores later lines', async () => {
    expect(await readFirstLine(stdinWith('secret\n'))).toBe('secret')
    expect(await readFirstLine(stdinWith('secret\r\n'))).toBe('secret')
    expect(await readFirstLine(stdinWith('secret'))).toBe('secret')
    expect(await readFirstLine(stdinWith('secret\nsecond line\n'))).toBe('secret')
    expect(await readFirstLine(stdinWith(' spaced \n'))).toBe(' spaced ')
  })

  it('leaves the stream open with the rest unread, so a prompt can read what follows', async () => {
    const stream = stdinWith(undefined)
    stream.write('secret\nnext ')
    const first = await readFirstLine(stream)
    stream.end('answer\n')
    expect(first).toBe('secret')
    expect(stream.destroyed).toBe(false)
    expect(await readFirstLine(stream)).toBe('next answer')
  })

  it('decodes a UTF-8 character split between two chunks', async () => {
    const bytes = Buffer.from('Grüße\n')
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3)]
    const stream = new Readable({
      read() {
        this.push(chunks.shift() ?? null)
      },
    })
    expect(await readFirstLine(stream)).toBe('Grüße')
  })
})

describe('resolveCredentials', () => {
  it('takes -u and -p first', async () => {
    const resolved = await resolveCredentials(
      inputs({
        username: 'JeffLynne',
        password: 'ELO',
        env: {HOMEAUTH_USERNAME: 'other', HOMEAUTH_PASSWORD: 'other'},
      }),
    )
    expect(resolved).toEqual({
      credentials: {username: 'JeffLynne', password: 'ELO'},
      usernames: ['JeffLynne'],
      source: 'the command line (-u/-p)',
    })
  })

  it('reads the password from stdin with --password-stdin', async () => {
    const resolved = await resolveCredentials(
      inputs({username: 'JeffLynne', passwordStdin: true, stdin: stdinWith('Mr Blue Sky\r\n')}),
    )
    expect(resolved.credentials?.password).toBe('Mr Blue Sky')
    expect(resolved.source).toBe('user name from -u, password from --password-stdin')
  })

  it('refuses an empty password on stdin', async () => {
    expect(
      await usageFailure(
        resolveCredentials(inputs({username: 'a', passwordStdin: true, stdin: stdinWith('\n')})),
      ),
    ).toMatch(/empty/)
  })

  it('refuses --password together with --password-stdin', async () => {
    expect(
      await usageFailure(resolveCredentials(inputs({username: 'a', password: 'b', passwordStdin: true}))),
    ).toMatch(/cannot be used together/)
  })

  it('falls back to HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD', async () => {
    const resolved = await resolveCredentials(
      inputs({env: {HOMEAUTH_USERNAME: 'JeffLynne', HOMEAUTH_PASSWORD: 'ELO'}}),
    )
    expect(resolved).toEqual({
      credentials: {username: 'JeffLynne', password: 'ELO'},
      usernames: ['JeffLynne'],
      source: 'the environment (HOMEAUTH_USERNAME/HOMEAUTH_PASSWORD)',
    })
  })

  it('names the flags to use when a value is missing and stdin is not a terminal', async () => {
    const message = await usageFailure(resolveCredentials(inputs({username: 'JeffLynne'})))
    expect(message).toBe('No password given, and stdin is not a terminal to ask for one.')
  })

  it('asks at a terminal for what is missing, through the prompt seam', async () => {
    const asked: string[] = []
    const prompts: Prompts = {
      input: async (message) => (asked.push(message), 'JeffLynne'),
      password: async (message) => (asked.push(message), 'ELO'),
      confirm: noPrompts.confirm,
      tell: noPrompts.tell,
    }
    const resolved = await resolveCredentials(inputs({stdin: stdinWith(undefined), prompts}))
    expect(asked).toEqual(['User name', 'Password for JeffLynne'])
    expect(resolved).toEqual({
      credentials: {username: 'JeffLynne', password: 'ELO'},
      usernames: ['JeffLynne'],
      source: 'user name from the prompt, password from the prompt',
    })
  })

  it('refuses credentials with control characters before anything else sees them', async () => {
    expect(
      await usageFailure(resolveCredentials(inputs({username: 'JeffLynne', password: 'ELO\u0000'}))),
    ).toMatch(/control character/)
  })
})

describe('resolveCredentials takes each source as a pair', () => {
  function warnings(): {warn: (message: string) => void; seen: string[]} {
    const seen: string[] = []
    return {warn: (message) => seen.push(message), seen}
  }

  it('uses the stored hash when only HOMEAUTH_PASSWORD is set, warning that it is ignored', async () => {
    const {warn, seen} = warnings()
    const resolved = await resolveCredentials(
      inputs({env: {HOMEAUTH_PASSWORD: 'ELO'}, storedUsernames: ['JeffLynne'], warn}),
    )
    expect(resolved).toEqual({usernames: ['JeffLynne'], source: 'the hash stored in config.json'})
    expect(seen).toEqual([
      'HOMEAUTH_PASSWORD is ignored because HOMEAUTH_USERNAME is not set; set both to take the credentials from the environment.',
    ])
  })

  it('ignores HOMEAUTH_USERNAME alone too, with a warning, and asks at a terminal', async () => {
    const {warn, seen} = warnings()
    const asked: string[] = []
    const prompts: Prompts = {
      input: async (message) => (asked.push(message), 'Bev'),
      password: async (message) => (asked.push(message), 'ELO'),
      confirm: noPrompts.confirm,
      tell: noPrompts.tell,
    }
    const resolved = await resolveCredentials(
      inputs({env: {HOMEAUTH_USERNAME: 'JeffLynne'}, stdin: stdinWith(undefined), prompts, warn}),
    )
    expect(resolved.credentials).toEqual({username: 'Bev', password: 'ELO'})
    expect(asked).toEqual(['User name', 'Password for Bev'])
    expect(seen).toEqual([expect.stringMatching(/^HOMEAUTH_USERNAME is ignored because HOMEAUTH_PASSWORD/)])
  })

  it('never pairs -u with HOMEAUTH_PASSWORD: without a terminal that is a usage error naming the flags', async () => {
    const error = await resolveCredentials(
      inputs({username: 'JeffLynne', env: {HOMEAUTH_PASSWORD: 'ELO'}, storedUsernames: ['JeffLynne']}),
    ).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect((error as HomeauthError).exitCode).toBe(ExitCode.usage)
    expect((error as HomeauthError).message).toBe(
      'No password given, and stdin is not a terminal to ask for one.',
    )
    expect((error as HomeauthError).suggestions.join(' ')).toContain('--password-stdin')
  })

  it('never pairs -p with HOMEAUTH_USERNAME: without a terminal that is a usage error naming --username', async () => {
    const error = await resolveCredentials(
      inputs({password: 'ELO', env: {HOMEAUTH_USERNAME: 'JeffLynne'}}),
    ).catch((caught: unknown) => caught)
    expect((error as HomeauthError).exitCode).toBe(ExitCode.usage)
    expect((error as HomeauthError).message).toBe(
      'No user name given, and stdin is not a terminal to ask for one.',
    )
    expect((error as HomeauthError).suggestions.join(' ')).toContain('--username')
  })

  it('asks at a terminal for the password of -u alone, whatever HOMEAUTH_PASSWORD says', async () => {
    const asked: string[] = []
    const prompts: Prompts = {
      input: noPrompts.input,
      password: async (message) => (asked.push(message), 'Mr Blue Sky'),
      confirm: noPrompts.confirm,
      tell: noPrompts.tell,
    }
    const resolved = await resolveCredentials(
      inputs({
        username: 'JeffLynne',
        env: {HOMEAUTH_USERNAME: 'other', HOMEAUTH_PASSWORD: 'other'},
        stdin: stdinWith(undefined),
        prompts,
      }),
    )
    expect(asked).toEqual(['Password for JeffLynne'])
    expect(resolved).toEqual({
      credentials: {username: 'JeffLynne', password: 'Mr Blue Sky'},
      usernames: ['JeffLynne'],
      source: 'user name from -u, password from the prompt',
    })
  })

  it('reads --password-stdin at a terminal through the masked prompt, not as echoed text', async () => {
    const asked: string[] = []
    const prompts: Prompts = {
      input: noPrompts.input,
      password: async (message) => (asked.push(message), 'ELO'),
      confirm: noPrompts.confirm,
      tell: noPrompts.tell,
    }
    const resolved = await resolveCredentials(
      inputs({username: 'JeffLynne', passwordStdin: true, stdin: stdinWith(''), prompts}),
    )
    expect(asked).toEqual(['Password'])
    expect(resolved.credentials).toEqual({username: 'JeffLynne', password: 'ELO'})
  })
})

describe('resolveCredentials after init', () => {
  it('uses the stored hash when nothing else is given, without prompting', async () => {
    const resolved = await resolveCredentials(
      inputs({storedUsernames: ['JeffLynne'], stdin: stdinWith(undefined)}),
    )
    expect(resolved).toEqual({usernames: ['JeffLynne'], source: 'the hash stored in config.json'})
  })

  it('lets -u/-p and the environment override the stored hash', async () => {
    const fromFlags = await resolveCredentials(
      inputs({username: 'a', password: 'b', storedUsernames: ['JeffLynne']}),
    )
    expect(fromFlags.credentials).toEqual({username: 'a', password: 'b'})
    const fromEnv = await resolveCredentials(
      inputs({env: {HOMEAUTH_USERNAME: 'c', HOMEAUTH_PASSWORD: 'd'}, storedUsernames: ['JeffLynne']}),
    )
    expect(fromEnv.credentials).toEqual({username: 'c', password: 'd'})
  })
})

describe('new passwords (init, passwd)', () => {
  it('refuse a short one from -p, --password-stdin or HOMEAUTH_PASSWORD with exit 2, unless allowed', async () => {
    // Made anew for each use: --password-stdin's stream is read once.
    const sources = (): Partial<CredentialInputs>[] => [
      {password: 'ELO'},
      {passwordStdin: true, stdin: stdinWith('ELO\n')},
      {env: {HOMEAUTH_PASSWORD: 'ELO'}},
    ]
    for (const source of sources()) {
      expect(await usageFailure(givenNewPassword(inputs(source), false))).toBe(
        'The new password is shorter than 8 characters.',
      )
    }
    for (const source of sources()) expect(await givenNewPassword(inputs(source), true)).toBe('ELO')
    expect(await givenNewPassword(inputs({password: 'Turn to Stone'}), false)).toBe('Turn to Stone')
    expect(await givenNewPassword(inputs({}), false)).toBeUndefined()
  })

  it('name --allow-short-password in the suggestion', () => {
    const error = (() => {
      try {
        checkNewPassword('short', false)
      } catch (caught) {
        return caught as HomeauthError
      }
    })()
    expect(error?.suggestions.join(' ')).toContain('--allow-short-password')
  })

  it('leave serve alone: resolveCredentials accepts a short password', async () => {
    const resolved = await resolveCredentials(inputs({username: 'JeffLynne', password: 'ELO'}))
    expect(resolved.credentials).toEqual({username: 'JeffLynne', password: 'ELO'})
  })
})
