// The servers compared: three reference scripts and homeauth itself, each a separate process with the
// same certificate, user and JSON message.
import {fileURLToPath} from 'node:url'

import {startServer} from './children.js'
import {homeauthBin, message, password, username} from './setup.js'

export const script = (name) => fileURLToPath(new URL(`servers/${name}.js`, import.meta.url))

function referenceServer(name, files) {
  return startServer({
    args: [
      script(name),
      '--cert',
      files.certFile,
      '--key',
      files.keyFile,
      '--username',
      username,
      '--message',
      message,
    ],
    env: {BENCH_PASSWORD: password},
    ready: /listening on/,
  })
}

/** `homeauth serve` on 127.0.0.1, port 0, with `args` added; ready once its banner is out. */
export function homeauthServe(files, {args = [], stdin, address} = {}) {
  return startServer({
    args: [
      homeauthBin,
      'serve',
      '--config-dir',
      files.configDir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      ...args,
    ],
    stdin,
    address,
    ready: /Press Ctrl\+C/,
  })
}

/** Each contender: an id for the JSON, a label for the table, and how to start it. */
export const contenders = [
  {
    id: 'raw-https',
    label: 'raw node:https, timingSafeEqual (Node floor)',
    start: (files) => referenceServer('raw-https', files),
  },
  {
    id: 'bare-express',
    label: 'bare express 5 (express floor)',
    start: (files) => referenceServer('bare-express', files),
  },
  {
    id: 'express-basic-auth',
    label: 'express 5 + express-basic-auth',
    start: (files) => referenceServer('express-basic-auth', files),
  },
  {
    id: 'homeauth',
    label: 'homeauth serve (stored hash)',
    measureThrottled: true,
    start: (files) => homeauthServe(files),
  },
  {
    id: 'homeauth-startup-credentials',
    label: 'homeauth serve -u … --password-stdin',
    start: (files) =>
      homeauthServe(files, {args: ['-u', username, '--password-stdin'], stdin: `${password}\n`}),
  },
]

export const byId = (id) => contenders.find((contender) => contender.id === id)
