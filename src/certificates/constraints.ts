import {X509Certificate} from 'node:crypto'
import {isIP} from 'node:net'

import ipaddr from 'ipaddr.js'

import {isValidHost} from '../net/hosts.js'
import {derTags, elements, extensionValue} from './der.js'

/**
 * The names a CA may vouch for: the permitted subtrees of its critical nameConstraints extension
 * (RFC 5280, 4.2.1.10). A verifier refuses a certificate under it for any other DNS name or address,
 * so a copy of the CA key cannot impersonate a bank to the devices that trust the CA.
 */
export interface NameConstraints {
  /**
   * DNS subtrees, each permitting the name itself and every name under it (`home.arpa` permits
   * `pi.home.arpa`). None at all leaves DNS names unconstrained, as RFC 5280 reads an absent type.
   */
  dnsNames: string[]
  /** Address ranges as CIDR; none at all leaves addresses unconstrained. */
  ipRanges: string[]
}

/**
 * The home's own domains, written as RFC 5280 writes DNS constraints: without a leading dot, which
 * OpenSSL, NSS and Chromium all read as the name and every name under it. `.home.arpa` is a
 * convention outside the RFC (OpenSSL and Chromium take it as the names under it only); a verifier
 * that follows the RFC to the letter would match it against no host.
 */
export const homeDomains = ['localhost', 'home.arpa', 'lan', 'internal']

/** The private, shared (CGNAT, Tailscale), loopback and link-local ranges of IPv4 and IPv6. */
export const homeRanges = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
]

function inRange(address: string, cidr: string): boolean {
  const parsed = ipaddr.parse(address)
  const [network, length] = ipaddr.parseCIDR(cidr)
  // A verifier compares an IPv4 address only with IPv4 ranges (4 bytes against 8), IPv6 with IPv6.
  return parsed.kind() === network.kind() && parsed.match(network, length)
}

function underDomain(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`)
}

/** Whether a CA with `constraints` may vouch for `host` (a DNS name, a wildcard, or an address); always without constraints. */
export function permits(constraints: NameConstraints | undefined, host: string): boolean {
  if (!constraints) return true
  const lowered = host.toLowerCase()
  if (isIP(lowered)) {
    return constraints.ipRanges.length === 0 || constraints.ipRanges.some((cidr) => inRange(lowered, cidr))
  }
  return (
    constraints.dnsNames.length === 0 ||
    constraints.dnsNames.some((domain) => underDomain(lowered, domain.toLowerCase()))
  )
}

/**
 * The constraints of a new CA: the home's domains and ranges, plus `names` (the machine's names and
 * those given with --san) that they do not already cover. A wildcard permits its parent domain; an
 * address outside the ranges permits that address alone.
 */
export function homeConstraints(names: string[]): NameConstraints {
  const constraints: NameConstraints = {dnsNames: [...homeDomains], ipRanges: [...homeRanges]}
  for (const name of names.map((host) => host.toLowerCase())) {
    if (!isValidHost(name) || permits(constraints, name)) continue
    if (isIP(name)) constraints.ipRanges.push(`${name}/${isIP(name) === 4 ? 32 : 128}`)
    else constraints.dnsNames.push(name.replace(/^\*\./, ''))
  }
  return constraints
}

/** The X.509 library's ASN.1 schema for extensions, loaded only to write one (0.2–0.4 s here). */
async function asn1Libraries() {
  const [schema, x509] = await Promise.all([import('@peculiar/asn1-schema'), import('@peculiar/asn1-x509')])
  return {AsnConvert: schema.AsnConvert, ...x509}
}

/** The OID and DER value of a nameConstraints extension permitting `constraints` and nothing else. */
export async function nameConstraintsExtension(
  constraints: NameConstraints,
): Promise<{oid: string; value: ArrayBuffer}> {
  const {AsnConvert, GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints} =
    await asn1Libraries()
  const bases = [
    ...constraints.dnsNames.map((dNSName) => new GeneralName({dNSName})),
    // The library writes a CIDR as RFC 5280's address followed by its mask (8 bytes, or 32 for IPv6).
    ...constraints.ipRanges.map((iPAddress) => new GeneralName({iPAddress})),
  ]
  const permittedSubtrees = new GeneralSubtrees(bases.map((base) => new GeneralSubtree({base})))
  return {oid: id_ce_nameConstraints, value: AsnConvert.serialize(new NameConstraints({permittedSubtrees}))}
}

/** id-ce-nameConstraints (2.5.29.30), as the contents of its DER OBJECT IDENTIFIER. */
const nameConstraintsOid = Uint8Array.of(0x55, 0x1d, 0x1e)
/** NameConstraints' `permittedSubtrees [0] IMPLICIT GeneralSubtrees` (RFC 5280, 4.2.1.10). */
const permittedSubtreesTag = 0xa0
/** GeneralName's `dNSName [2] IA5String` and `iPAddress [7] OCTET STRING`, both implicit. */
const dnsNameTag = 0x82
const ipAddressTag = 0x87

/** A constraint's iPAddress (an address followed by its mask, 8 or 32 bytes) as CIDR. */
function cidr(octets: Uint8Array): string {
  if (octets.length !== 8 && octets.length !== 32) throw new Error('Bad iPAddress name constraint')
  const half = octets.length / 2
  const prefixLength = [...octets.subarray(half)].reduce(
    (bits, octet) => bits + octet.toString(2).replaceAll('0', '').length,
    0,
  )
  return `${ipaddr.fromByteArray([...octets.subarray(0, half)]).toString()}/${prefixLength}`
}

/**
 * The permitted DNS names and ranges of the CA in `certPem`; undefined for a CA without the extension
 * (one made before homeauth wrote it: it may vouch for any name). Excluded subtrees are not read:
 * homeauth never writes them. Read from the DER with a few lines rather than the X.509 library,
 * which costs 0.2 s and about 12 MiB of memory to load, so serve and status do without it.
 */
export function readNameConstraints(certPem: string): NameConstraints | undefined {
  const value = extensionValue(new X509Certificate(certPem).raw, nameConstraintsOid)
  if (!value) return undefined
  const [nameConstraints] = elements(value)
  if (nameConstraints?.tag !== derTags.sequence) throw new Error('Bad nameConstraints extension')
  const permitted = elements(nameConstraints.contents).find(({tag}) => tag === permittedSubtreesTag)
  // GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL }
  const bases = (permitted ? elements(permitted.contents) : []).map(({contents}) => elements(contents)[0])
  return {
    dnsNames: bases.flatMap((base) =>
      base?.tag === dnsNameTag ? [Buffer.from(base.contents).toString('latin1')] : [],
    ),
    ipRanges: bases.flatMap((base) => (base?.tag === ipAddressTag ? [cidr(base.contents)] : [])),
  }
}
