// What every reference server is started with: the certificate homeauth made (HTTPS servers only),
// the one user, the message. The password comes in BENCH_PASSWORD. Each server prints its URL once
// it listens.
import {readFileSync} from 'node:fs'
import tls from 'node:tls'
import {parseArgs} from 'node:util'

export function serverOptions() {
  const {values} = parseArgs({
    options: {
      cert: {type: 'string'},
      key: {type: 'string'},
      username: {type: 'string'},
      message: {type: 'string'},
    },
  })
  return {
    tls: values.cert ? {cert: readFileSync(values.cert), key: readFileSync(values.key)} : undefined,
    username: values.username,
    password: process.env.BENCH_PASSWORD,
    message: values.message,
  }
}

/** Listens on 127.0.0.1, a free port, and prints the line the bench waits for. */
export function listen(server) {
  const scheme = server instanceof tls.Server ? 'https' : 'http'
  server.listen(0, '127.0.0.1', () =>
    console.log(`listening on ${scheme}://127.0.0.1:${server.address().port}/`),
  )
}
