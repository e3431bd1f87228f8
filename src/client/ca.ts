import {X509Certificate} from 'node:crypto'

import {readUserFile} from '../config/user-files.js'
import {setupError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'

/** The PEM of the CA to trust from `file` (given with --ca, or the config directory's ca.pem). */
export async function readCa(file: string, given: boolean): Promise<string> {
  const pem = await readUserFile({
    file,
    what: 'CA',
    flag: '--ca',
    suggestion: given
      ? undefined
      : `Pass the server’s ca.pem with --ca, or run ${homeauthCommand('init')} on this machine.`,
  })
  try {
    new X509Certificate(pem)
  } catch {
    throw setupError(`The CA file ${file} does not hold a PEM certificate.`, [
      'Pass the server’s ca.pem with --ca.',
    ])
  }
  return pem
}
