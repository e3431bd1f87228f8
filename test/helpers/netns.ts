import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

/**
 * A network namespace the test creates (`ip netns add`) and removes: a LAN of its own, with
 * private addresses that exist only inside it, so a test can give the server a new address or
 * put clients at chosen IPv6 addresses without touching the machine's network.
 */
export class NetworkNamespace {
  /** Whether namespaces can be made here (root, with `ip` from iproute2). */
  static get available(): boolean {
    if (process.getuid?.() !== 0) return false
    const probe = NetworkNamespace.tryCreate()
    probe?.remove()
    return probe !== undefined
  }

  /** A new namespace with its loopback up. */
  static create(): NetworkNamespace {
    const namespace = NetworkNamespace.tryCreate()
    if (!namespace) throw new Error('cannot create a network namespace (needs root and iproute2)')
    return namespace
  }

  private static tryCreate(): NetworkNamespace | undefined {
    const name = `homeauth-${randomBytes(4).toString('hex')}`
    if (spawnSync('ip', ['netns', 'add', name]).status !== 0) return undefined
    const namespace = new NetworkNamespace(name)
    namespace.ip('link', 'set', 'lo', 'up')
    return namespace
  }

  private constructor(readonly name: string) {}

  /** The argv prefix that runs a command inside the namespace. */
  get prefix(): string[] {
    return ['ip', 'netns', 'exec', this.name]
  }

  /** Runs `ip ARGS…` inside the namespace; throws with ip's message when it fails. */
  ip(...args: string[]): void {
    const result = spawnSync('ip', ['-n', this.name, ...args], {encoding: 'utf8'})
    if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`)
  }

  /**
   * A LAN interface: a veth pair with both ends inside the namespace, `name` up and holding
   * `addresses` (CIDR; IPv6 ones skip duplicate-address detection so they are usable at once).
   */
  addLan(name: string, addresses: string[]): void {
    this.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}-peer`)
    this.ip('link', 'set', name, 'up')
    this.ip('link', 'set', `${name}-peer`, 'up')
    for (const address of addresses) this.addAddress(name, address)
  }

  addAddress(device: string, cidr: string): void {
    this.ip('address', 'add', cidr, 'dev', device, ...(cidr.includes(':') ? ['nodad'] : []))
  }

  removeAddress(device: string, cidr: string): void {
    this.ip('address', 'del', cidr, 'dev', device)
  }

  remove(): void {
    spawnSync('ip', ['netns', 'delete', this.name])
  }
}
