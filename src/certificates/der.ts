/** One DER element (X.690, 8.1): its tag byte and its contents. */
export interface Element {
  tag: number
  contents: Uint8Array
}

export const derTags = {
  sequence: 0x30,
  octetString: 0x04,
  objectIdentifier: 0x06,
} as const

/**
 * The elements that follow one another in `der` (the contents of a SEQUENCE, or a whole
 * certificate as one element). Only the short tags X.509 uses; throws on a truncated element or an
 * indefinite length, which DER never has.
 */
export function elements(der: Uint8Array): Element[] {
  const found: Element[] = []
  // Every index read is checked against the length first; `?? 0` only satisfies the type checker.
  const byte = (index: number) => der[index] ?? 0
  for (let offset = 0; offset < der.length;) {
    if (offset + 2 > der.length) throw new Error('Truncated DER element')
    const tag = byte(offset)
    let length = byte(offset + 1)
    let start = offset + 2
    if (length & 0x80) {
      const octets = length & 0x7f
      if (octets === 0 || octets > 4 || start + octets > der.length) throw new Error('Bad DER length')
      length = 0
      for (let index = 0; index < octets; index++) length = length * 256 + byte(start + index)
      start += octets
    }
    if (start + length > der.length) throw new Error('Truncated DER element')
    found.push({tag, contents: der.subarray(start, start + length)})
    offset = start + length
  }
  return found
}

/** tbsCertificate's `[3] EXPLICIT Extensions` (RFC 5280, 4.1). */
const extensionsTag = 0xa3

/**
 * The contents of the extnValue of extension `oid` (the OID's DER contents, e.g. `55 1d 1e` for
 * 2.5.29.30) in the DER certificate `der`; undefined when the certificate does not have it.
 */
export function extensionValue(der: Uint8Array, oid: Uint8Array): Uint8Array | undefined {
  const [certificate] = elements(der)
  const [tbsCertificate] = certificate?.tag === derTags.sequence ? elements(certificate.contents) : []
  if (tbsCertificate?.tag !== derTags.sequence) throw new Error('Not a DER certificate')
  const extensions = elements(tbsCertificate.contents).find(({tag}) => tag === extensionsTag)
  const [list] = extensions ? elements(extensions.contents) : []
  // Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  for (const extension of list ? elements(list.contents) : []) {
    const fields = elements(extension.contents)
    const [id] = fields
    const value = fields.at(-1)
    if (id?.tag !== derTags.objectIdentifier || value?.tag !== derTags.octetString) continue
    if (Buffer.compare(id.contents, oid) === 0) return value.contents
  }
  return undefined
}
