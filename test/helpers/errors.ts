import {expect} from 'vitest'

import {type ExitCode, HomeauthError} from '../../src/errors.js'

/** The HomeauthError `promise` rejects with, once checked to carry `exitCode`. */
export async function homeauthRejection(
  promise: Promise<unknown>,
  exitCode: ExitCode,
): Promise<HomeauthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(HomeauthError)
  expect((error as HomeauthError).exitCode).toBe(exitCode)
  return error as HomeauthError
}
