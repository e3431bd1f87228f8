import {describe, expect, it} from 'vitest'

import {invalidHostProblem, missingHosts, parseExtraHosts} from '../../src/certificates/hosts.js'
import {ExitCode} from '../../src/errors.js'
import {homeauthRejection} from '../helpers/errors.js'

describe('parseExtraHosts (--san of serve, init and cert renew)', () => {
  it('returns the names and addresses in lower case', () => {
    expect(parseExtraHosts(['Pi.Home.Arpa', '192.168.1.20', '2001:DB8::1'])).toEqual([
      'pi.home.arpa',
      '192.168.1.20',
      '2001:db8::1',
    ])
  })

  it('exits 2 naming the first value that is neither a host name nor an address, with examples', async () => {
    const parsing = Promise.resolve().then(() =>
      parseExtraHosts(['pi.home.arpa', 'Not A Host', 'under_score']),
    )
    const error = await homeauthRejection(parsing, ExitCode.usage)
    expect(error.message).toBe('--san "not a host" is neither a host name nor an IP address.')
    expect(error.suggestions).toEqual(['Pass names like pi.home.arpa or addresses like 192.168.1.20.'])
  })
})

describe('invalidHostProblem (the init prompt)', () => {
  it('names the first value that cannot stand in a certificate, and nothing when all can', () => {
    expect(invalidHostProblem(['nas.local', 'bad host', 'x y'])).toBe(
      '"bad host" is neither a host name nor an IP address.',
    )
    expect(invalidHostProblem(['nas.local', '*.home.arpa', '::1'])).toBeUndefined()
  })
})

describe('missingHosts (what a certificate lacks)', () => {
  it('compares names and addresses in one spelling each', () => {
    const present = ['localhost', 'pi.home.arpa', '192.168.1.20', '2001:db8::1']
    expect(missingHosts(present, ['PI.home.arpa', '2001:DB8:0:0:0:0:0:1', '192.168.1.20'])).toEqual([])
    expect(missingHosts(present, ['192.168.1.77', 'nas.local', '192.168.1.77'])).toEqual([
      '192.168.1.77',
      'nas.local',
    ])
  })

  it('never counts a name no certificate can hold, which would otherwise be missing after every reissue', () => {
    expect(missingHosts(['localhost'], ['my_pi', 'my_pi.local', 'pi x'])).toEqual([])
  })
})
