import {isIPv6} from 'node:net'
import path from 'node:path'

import escapeHtml from 'escape-html'
import type {IRouter, Request, Response} from 'express'

import type {NameConstraints} from '../certificates/constraints.js'
import {
  caDownloads,
  detectPlatform,
  guidesFor,
  type CaFormat,
  type PlatformGuide,
} from '../certificates/platforms.js'
import {unbracketHost} from '../net/address.js'
import {isValidHost} from '../net/hosts.js'
import {inlineStyleHashes, pagePolicyHeader} from './security-headers.js'
import {loadTemplate} from './template.js'

/** The local CA as the onboarding routes hand it out: its certificate (PEM) and SHA-256 fingerprint. */
export interface OnboardingAuthority {
  cert: string
  fingerprint: string
  /** What the CA may vouch for; undefined for a CA without name constraints. */
  nameConstraints?: NameConstraints
}

export interface OnboardingOptions {
  /** Where the onboarding page answers; `/trust` unless given (plain HTTP adds `/`). */
  pagePaths?: string[]
}

/**
 * `https://<host>[:port]` for a Host header that names a host name, an IPv4 address or a bracketed
 * IPv6 address, with an optional port; undefined for anything else. The header comes from the
 * client: nothing else of it may reach a link or a redirect.
 */
export function httpsOrigin(hostHeader: string | undefined): string | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostHeader ?? '')
  if (!match) return undefined
  const [, host = '', port] = match
  const validHost = host.startsWith('[')
    ? isIPv6(unbracketHost(host))
    : isValidHost(host) && !host.includes('*')
  const validPort = port === undefined || (Number(port) >= 1 && Number(port) <= 65_535)
  return validHost && validPort
    ? `https://${host.toLowerCase()}${port === undefined ? '' : `:${port}`}`
    : undefined
}

/** The CA fingerprint in groups of four bytes, one per line where the screen is narrow. */
function fingerprintGroups(fingerprint: string): string {
  const bytes = fingerprint.split(':')
  const groups: string[] = []
  for (let start = 0; start < bytes.length; start += 4) groups.push(bytes.slice(start, start + 4).join(':'))
  return groups.map((group) => `<span>${escapeHtml(group)}</span>`).join(' ')
}

function guideHtml(guide: PlatformGuide): string {
  const download = caDownloads[guide.format]
  return [
    `<a class="button" href="${escapeHtml(download.path)}">Download ${escapeHtml(download.label)}</a>`,
    `<ol>${guide.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>`,
  ].join('\n')
}

/** The detected platform open at the top, every other one folded in a <details> (no script needed). */
function platformsHtml(userAgent: string | undefined): string {
  const detected = detectPlatform(userAgent)
  const guides = guidesFor(userAgent)
  const folded = (detected ? guides.slice(1) : guides)
    .map((guide) => `<details><summary>${escapeHtml(guide.name)}</summary>\n${guideHtml(guide)}</details>`)
    .join('\n')
  const others = `<section><h2>${detected ? 'Other devices' : 'Pick your device'}</h2>\n${folded}</section>`
  if (!detected) return others
  const first = guides[0]!
  return `<section><h2>${escapeHtml(first.name)}</h2>\n${guideHtml(first)}</section>\n${others}`
}

function continueHtml(hostHeader: string | undefined): string {
  const origin = httpsOrigin(hostHeader)
  if (origin === undefined) {
    return '<p>Once the CA is trusted, open this server’s address with https:// in front.</p>'
  }
  return `<a class="button primary" href="${escapeHtml(`${origin}/`)}">Open the secret page over HTTPS</a>`
}

/** For a constrained CA, what that means for the device that trusts it; nothing for one without constraints. */
function constraintHtml(constraints: NameConstraints | undefined): string {
  if (!constraints) return ''
  const domains = constraints.dnsNames.map((name) => `<code>${escapeHtml(name)}</code>`).join(', ')
  return [
    '<section>',
    '<h2>It can only vouch for your home</h2>',
    '<p>This certificate can only vouch for your home’s devices: names such as',
    `${domains} (and the names under them) and private network addresses.`,
    'Even someone who copied it with its key could not use it to pose as your bank or any other site on the internet.</p>',
    '</section>',
  ].join('\n')
}

const allowed = 'GET, HEAD'

/** The exports load plist (for the Apple profile) only once a device downloads the CA: most servers never hand it out. */
async function exportOnFirstDownload(caPem: string, format: CaFormat): Promise<Buffer> {
  const {exportAuthority} = await import('../certificates/export.js')
  return exportAuthority(caPem, format)
}

/** 405 for a method other than GET or HEAD on a route that has only those. */
export function methodNotAllowed(_req: Request, res: Response): void {
  res.status(405).set('Allow', allowed).json({message: 'Method not allowed.'})
}

/**
 * Adds to `router` the routes that get a device to trust the local CA: the onboarding page and the
 * CA as PEM, DER and Apple profile. They are public (the CA certificate is; its key never leaves the
 * config directory), so they go before authentication, and on the plain-HTTP side too.
 */
export function addOnboardingRoutes(
  router: IRouter,
  authority: OnboardingAuthority,
  options: OnboardingOptions = {},
): void {
  const template = loadTemplate('trust.html', {
    platforms: 'html',
    caFingerprint: 'html',
    constraint: 'html',
    continue: 'html',
  })
  // The page's own policy, whichever app mounts it: its styles are inline, hashed; it loads nothing else.
  const policy = pagePolicyHeader({styleHashes: inlineStyleHashes(template.source)})
  const page = template.fill({
    caFingerprint: fingerprintGroups(authority.fingerprint),
    constraint: constraintHtml(authority.nameConstraints),
  })

  router
    .route(options.pagePaths ?? ['/trust'])
    .get((req, res) => {
      const html = page.render({
        platforms: platformsHtml(req.get('user-agent')),
        continue: continueHtml(req.get('host')),
      })
      res
        .set({
          'Content-Security-Policy': policy,
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
        })
        .type('html')
        .send(html)
    })
    .all(methodNotAllowed)

  for (const format of Object.keys(caDownloads) as CaFormat[]) {
    const {path: downloadPath, contentType} = caDownloads[format]
    let body: Promise<Buffer> | undefined
    const headers = {
      'Content-Type': contentType,
      'Content-Disposition': `attachment; filename="${path.posix.basename(downloadPath)}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    }
    router
      .route(downloadPath)
      .get(async (_req, res) => {
        body ??= exportOnFirstDownload(authority.cert, format)
        res.set(headers).send(await body)
      })
      .all(methodNotAllowed)
  }
}
