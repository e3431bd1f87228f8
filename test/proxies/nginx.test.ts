import {spawnSync} from 'node:child_process'

import {describe, expect, it} from 'vitest'

import {proxyBinaries} from '../helpers/proxies.js'
import {describeForwardAuth} from './forward-auth.js'

describe("Debian's nginx", () => {
  it('has the auth_request module the recipe needs', () => {
    const version = spawnSync(proxyBinaries.nginx, ['-V'], {encoding: 'utf8'})
    expect(version.stderr).toContain('--with-http_auth_request_module')
  })
})

describeForwardAuth('nginx', 'https')
describeForwardAuth('nginx', 'auth-listen')
