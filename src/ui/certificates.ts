import type {NameConstraints} from '../certificates/constraints.js'
import type {CertificateSummary} from '../certificates/inspect.js'
import type {CaFormat} from '../certificates/platforms.js'
import {homeauthCommand} from '../invocation.js'
import {reloadNote} from './daemon.js'
import {constraintNote} from './messages.js'
import type {Output} from './output.js'

type StoredCertificate = CertificateSummary & {file: string}

/** Label-value rows, the values lined up after the longest label. */
function rows(entries: [string, string][]): string[] {
  const width = Math.max(...entries.map(([label]) => label.length)) + 2
  return entries.map(([label, value]) => `  ${`${label}:`.padEnd(width)}${value}`)
}

function certificateLines(
  output: Output,
  title: string,
  fingerprintLabel: string,
  summary: StoredCertificate,
  extraRows: [string, string][] = [],
): string[] {
  const {color} = output.out
  const expiry =
    summary.daysLeft < 30 ? color.yellow(`${summary.daysLeft} days left`) : `${summary.daysLeft} days left`
  return [
    color.bold(title),
    ...rows([
      ['file', summary.file],
      ['subject', summary.subject],
      ...(summary.hosts.length ? [['hosts', summary.hosts.join(', ')] as [string, string]] : []),
      [fingerprintLabel, summary.fingerprint],
      ['not after', `${summary.notAfter.toISOString()} (${expiry})`],
      ...extraRows,
    ]),
  ]
}

/** What a constrained CA permits, DNS names then address ranges. */
function permittedList(constraints: NameConstraints): string {
  return [...constraints.dnsNames, ...constraints.ipRanges].join(', ')
}

/** `homeauth cert`: the CA (and what it may vouch for) and the server certificate, if there is one yet. */
export function printCertificates(
  output: Output,
  authority: StoredCertificate & {nameConstraints: NameConstraints | undefined},
  server: StoredCertificate | undefined,
): void {
  const constraints = authority.nameConstraints
  const lines = certificateLines(output, 'CA certificate', 'CA fingerprint', authority, [
    ['vouches for', constraintNote(constraints !== undefined)],
    ...(constraints ? [['permitted', permittedList(constraints)] as [string, string]] : []),
  ])
  lines.push(
    ...(server
      ? certificateLines(output, 'Server certificate', 'server certificate fingerprint', server)
      : [`Server certificate: none yet (${homeauthCommand('serve')} or cert renew makes one)`]),
  )
  output.out.line(lines.join('\n'))
}

export function printRenewed(
  output: Output,
  summary: CertificateSummary,
  reloadedPid: number | undefined,
): void {
  output.out.line(
    [
      `New server certificate, valid until ${summary.notAfter.toISOString().slice(0, 10)} (${summary.daysLeft} days)`,
      ...rows([
        ['hosts', summary.hosts.join(', ')],
        ['server certificate fingerprint', summary.fingerprint],
      ]),
    ].join('\n'),
  )
  output.err.line(`The CA is unchanged. ${reloadNote(reloadedPid)}`)
}

const formatNames: Record<CaFormat, string> = {
  pem: 'PEM',
  der: 'DER',
  mobileconfig: 'an Apple configuration profile',
}

/** `homeauth cert export --out FILE`: where the CA went, and the CA fingerprint a device will show for it. */
export function printExported(output: Output, file: string, format: CaFormat, fingerprint: string): void {
  output.out.line(
    [`Wrote ${file}: the CA certificate as ${formatNames[format]}`, `  CA fingerprint: ${fingerprint}`].join(
      '\n',
    ),
  )
}
