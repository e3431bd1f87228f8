import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** Where the HTML templates ship: `templates/` beside `src/` and `dist/`. */
export const templatesDir = fileURLToPath(new URL('../templates/', import.meta.url))

/** File names inside the config directory (modes: see docs/configuration.md). */
export const configFiles = {
  config: 'config.json',
  state: 'state.json',
  log: 'serve.log',
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  deviceKey: 'device-key',
  devicesSeen: 'devices-seen.json',
  control: 'control.sock',
} as const

export function configPath(configDir: string, file: keyof typeof configFiles): string {
  return path.join(configDir, configFiles[file])
}
