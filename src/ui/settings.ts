import {storedSettingNames, type StoredSettingName} from '../config/stored-settings.js'
import {homeauthCommand} from '../invocation.js'
import type {SettingsReport} from '../setup/settings.js'
import {restartCommand} from './daemon.js'
import type {Output} from './output.js'

/** How a setting that is not stored and has no default reads: what serve does without it. */
const unsetMeaning: Partial<Record<StoredSettingName, string>> = {
  host: 'all interfaces',
  san: 'none beyond this machine’s names and addresses',
  cert: 'the local CA’s certificate',
  key: 'the local CA’s certificate',
  'secret-file': 'none (the stored message)',
  'frame-ancestors': 'none (the page cannot be embedded)',
  'trust-proxy': 'none (X-Forwarded-For is ignored)',
  'auth-listen': 'none (/auth on the HTTPS port only)',
}

function shown(report: SettingsReport, name: StoredSettingName): string {
  const value = report.effective[name]
  if (value === null) return unsetMeaning[name] ?? 'none'
  const text = Array.isArray(value) ? value.join(', ') : String(value)
  return report.stored[name] === undefined ? `${text} (default)` : text
}

/** Every serve setting: the stored value, else the default or what serve does without it. */
export function printSettings(output: Output, report: SettingsReport): void {
  const width = Math.max(...storedSettingNames.map((name) => name.length))
  output.out.line(
    [
      `serve's settings (${report.configFile}, "serve"); a flag given to serve wins for that run:`,
      ...storedSettingNames.map((name) => `  ${name.padEnd(width)}  ${shown(report, name)}`),
    ].join('\n'),
  )
}

/**
 * After a change: the settings, and for a server that runs already, that it keeps the settings it
 * started with until restarted, and how (settings are read once at a start, never reloaded).
 */
export function printSettingsChanged(output: Output, report: SettingsReport): void {
  printSettings(output, report)
  const {running} = report
  if (!running) {
    output.err.line(`No server is running; the next ${homeauthCommand('serve')} uses them.`)
    return
  }
  output.err.line(
    `The running server (PID ${running.pid}) keeps the settings it started with; restart it to use these: ${restartCommand(running)}`,
  )
}
