/** The devices a user trusts the local CA on, each with the file it installs and the steps to take. */
export type Platform = 'ios' | 'android' | 'macos' | 'windows' | 'linux'

/** The CA as each kind of device installs it; the paths are served over plain HTTP and HTTPS alike. */
export const caDownloads = {
  pem: {path: '/ca.pem', contentType: 'application/x-pem-file', label: 'ca.pem (PEM)'},
  der: {path: '/ca.crt', contentType: 'application/x-x509-ca-cert', label: 'ca.crt (DER)'},
  mobileconfig: {
    path: '/homeauth.mobileconfig',
    contentType: 'application/x-apple-aspen-config',
    label: 'homeauth.mobileconfig (profile)',
  },
} as const

export type CaFormat = keyof typeof caDownloads

export interface PlatformGuide {
  platform: Platform
  name: string
  /** The file this platform installs. */
  format: CaFormat
  steps: string[]
}

/*
 * The steps follow what each system asks for today (mkcert's most reported problem is getting a
 * local CA onto phones): iOS installs a profile and then needs full trust switched on by hand;
 * Android installs only DER files, and only from Settings, not from the browser.
 */
export const platformGuides: Record<Platform, PlatformGuide> = {
  ios: {
    platform: 'ios',
    name: 'iPhone and iPad',
    format: 'mobileconfig',
    steps: [
      'Download the profile and tap Allow.',
      'Open Settings › Profile Downloaded › Install, and enter your passcode.',
      'Open Settings › General › About › Certificate Trust Settings and switch on full trust for the homeauth local CA.',
    ],
  },
  android: {
    platform: 'android',
    name: 'Android',
    format: 'der',
    steps: [
      'Download ca.crt.',
      'Open Settings › Security › Install a certificate › CA certificate (on some phones under Encryption & credentials), and tap Install anyway.',
      'Pick the downloaded ca.crt.',
    ],
  },
  macos: {
    platform: 'macos',
    name: 'macOS',
    format: 'pem',
    steps: [
      'Download ca.pem and open it: Keychain Access adds it to the login keychain.',
      'Double-click the homeauth local CA there, open Trust, and choose Always Trust for "When using this certificate".',
    ],
  },
  windows: {
    platform: 'windows',
    name: 'Windows',
    format: 'der',
    steps: [
      'Download ca.crt and open it.',
      'Choose Install Certificate › Current User › Place all certificates in the following store › Trusted Root Certification Authorities.',
      'Confirm the security warning.',
    ],
  },
  linux: {
    platform: 'linux',
    name: 'Linux and Firefox',
    format: 'pem',
    steps: [
      'Download ca.pem.',
      'Firefox: Settings › Privacy & Security › Certificates › View Certificates › Authorities › Import, and tick "Trust this CA to identify websites".',
      'Chrome and Chromium: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n homeauth -i ca.pem (package libnss3-tools).',
    ],
  },
}

/** The platform a browser's User-Agent names, most specific first; undefined when it names none we know. */
export function detectPlatform(userAgent: string | undefined): Platform | undefined {
  const agent = userAgent ?? ''
  if (/iPhone|iPad|iPod/.test(agent)) return 'ios'
  if (/Android/.test(agent)) return 'android'
  // iPadOS asks for desktop pages as a Mac; a Mac has no touch points, but a User-Agent cannot say so.
  if (/Macintosh|Mac OS X/.test(agent)) return 'macos'
  if (/Windows/.test(agent)) return 'windows'
  if (/Linux|X11|CrOS/.test(agent)) return 'linux'
  return undefined
}

/** Every platform's guide, the detected one first. */
export function guidesFor(userAgent: string | undefined): PlatformGuide[] {
  const detected = detectPlatform(userAgent)
  const all = Object.values(platformGuides)
  return detected ? [platformGuides[detected], ...all.filter((guide) => guide.platform !== detected)] : all
}
