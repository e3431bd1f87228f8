import os from 'node:os'

/** The name to offer when the system knows no name for the user running homeauth. */
const fallbackUsername = 'homeauth'

/**
 * The login name of the user running homeauth, or "homeauth" when the system has none: a
 * container's arbitrary uid often has no passwd entry, and `os.userInfo()` then throws.
 */
export function osUsername(): string {
  try {
    return os.userInfo().username
  } catch {
    return fallbackUsername
  }
}
