import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {runCli, serveArgs, type useCli} from './cli.js'

/** The password init stores in the init tests. */
export const password = 'Mr Blue Sky 1977'

/** `homeauth init --yes` for JeffLynne with `password` on stdin, and any `extra` flags. */
export function init(configDir: string, ...extra: string[]) {
  return runCli(
    ['init', '--config-dir', configDir, '--username', 'JeffLynne', '--password-stdin', '--yes', ...extra],
    {
      input: `${password}\n`,
    },
  )
}

/** The SHA-256 fingerprint of the CA in `configDir`. */
export function caFingerprint(configDir: string): string {
  return new X509Certificate(readFileSync(path.join(configDir, 'ca.pem'))).fingerprint256
}

/** Starts `serve -u a` once in `configDir` and stops it: the CA and certificate an earlier serve made. */
export async function serveOnce(startCli: ReturnType<typeof useCli>, configDir: string): Promise<void> {
  const cli = startCli(serveArgs(configDir, '-u', 'a', '--password-stdin'))
  cli.child.stdin.end('b\n')
  await cli.waitFor(/Press Ctrl\+C/)
  cli.child.kill('SIGTERM')
  await cli.exited
}
