import {X509Certificate} from 'node:crypto'
import {promises as fs} from 'node:fs'

import {errorCode, setupError} from '../errors.js'

/** The PEM of the CA to trust from `file` (given with --ca, or the config directory's ca.pem). */
export async function readCa(file: string, given: boolean): Promise<string> {
  let pem: string
  try {
    pem = await fs.readFile(file, 'utf8')
  } catch (error) {
    const reason =
      errorCode(error) === 'ENOENT' ? 'does not exist' : `cannot be read (${errorCode(error) ?? 'error'})`
    throw setupError(`The CA file ${file} ${reason}.`, [
      given
        ? 'Check the path given to --ca.'
        : 'Pass the server’s ca.pem with --ca, or run homeauth init on this machine.',
    ])
  }
  try {
    new X509Certificate(pem)
  } catch {
    throw setupError(`The CA file ${file} does not hold a PEM certificate.`, [
      'Pass the server’s ca.pem with --ca.',
    ])
  }
  return pem
}
