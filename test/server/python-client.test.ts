import {execFile, spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'

import {describe, expect, it} from 'vitest'

import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()

// A Python client with VERIFY_X509_STRICT (the default from Python 3.13): it rejects a CA-issued
// certificate without an Authority Key Identifier, as most home-automation clients will.
const client = `
import base64, json, ssl, sys, urllib.request
url, ca, user, password = sys.argv[1:5]
context = ssl.create_default_context(cafile=ca)
context.verify_flags |= ssl.VERIFY_X509_STRICT
token = base64.b64encode(f"{user}:{password}".encode()).decode()
req = urllib.request.Request(url, headers={"Authorization": "Basic " + token})
with urllib.request.urlopen(req, context=context, timeout=10) as response:
    print(json.load(response)["message"])
`

const python = ['python3', '/usr/bin/python3'].find(
  (command) => spawnSync(command, ['--version']).status === 0,
)

describe.skipIf(!python)('a strict Python client', () => {
  it('trusts the chain and reads the secret over https://localhost', async () => {
    const dir = tempDir()
    const server = await startServer(dir)
    const script = path.join(dir, 'client.py')
    writeFileSync(script, client)
    const url = `https://localhost:${server.listener.port}/api/secret`
    // Asynchronously: the server runs in this process and must keep answering.
    const {stdout} = await promisify(execFile)(python!, [
      script,
      url,
      server.tls.authority!.file,
      user.username,
      user.password,
    ])
    expect(stdout.trim()).toBe('The answer is 42.')
  })
})
