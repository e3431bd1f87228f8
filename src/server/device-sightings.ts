import type {StoredDevice} from '../config/config.js'
import {readDevicesSeen, writeDevicesSeen, type DevicesSeen} from '../config/devices.js'

/** How often, at most, the devices' last sign-ins are written to devices-seen.json. */
export const sightingsFlushMs = 60_000

/**
 * The devices' last sign-ins, kept in memory on every request and written to devices-seen.json
 * beside config.json at most once a `flushMs` and when the server stops: never config.json, and
 * never a write per request. Read at start-up, so a restart keeps what was seen before it.
 */
export class DeviceSightings {
  private dirty = false
  private readonly timer: NodeJS.Timeout
  private writing: Promise<void> = Promise.resolve()

  private constructor(
    private readonly configDir: string,
    private seen: DevicesSeen,
    flushMs: number,
    private readonly onError: (error: Error) => void,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs).unref()
  }

  static async open(
    configDir: string,
    onError: (error: Error) => void,
    flushMs = sightingsFlushMs,
  ): Promise<DeviceSightings> {
    return new DeviceSightings(configDir, await readDevicesSeen(configDir), flushMs, onError)
  }

  record(device: Pick<StoredDevice, 'name' | 'createdAt'>, address: string, at = new Date()): void {
    this.seen[device.name] = {createdAt: device.createdAt, at: at.toISOString(), address}
    this.dirty = true
  }

  /** Forgets the sightings of devices no longer listed (revoked, or their user removed). */
  retain(devices: readonly Pick<StoredDevice, 'name' | 'createdAt'>[]): void {
    const kept = Object.entries(this.seen).filter(([name, sighting]) =>
      devices.some((device) => device.name === name && device.createdAt === sighting.createdAt),
    )
    if (kept.length === Object.keys(this.seen).length) return
    this.seen = Object.fromEntries(kept)
    this.dirty = true
  }

  /** Writes what changed since the last write, if anything; one write at a time. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return
      this.dirty = false
      await writeDevicesSeen(this.configDir, this.seen).catch((error: Error) => {
        this.dirty = true
        this.onError(error)
      })
    })
    return this.writing
  }

  /** Stops the timer and writes what is left: at a graceful stop. */
  close(): Promise<void> {
    clearInterval(this.timer)
    return this.flush()
  }
}
