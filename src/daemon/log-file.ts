import {closeSync, fstatSync, openSync, renameSync, writeSync} from 'node:fs'

import {privateFileMode} from '../config/files.js'

/** serve.log is rotated to serve.log.1 beyond this size, so a detached server never fills an SD card. */
export const maxLogBytes = 1024 * 1024

/**
 * An append-only log file (0600) that keeps at most `maxBytes` in the current file and one rotated
 * file beside it. Writes are synchronous: a home server's log is a few lines a minute, and a line
 * must be on disk before a crash that it might explain.
 */
export class RotatingLog {
  private fd: number
  private size: number

  constructor(
    readonly file: string,
    private readonly maxBytes = maxLogBytes,
  ) {
    this.fd = openSync(file, 'a', privateFileMode)
    this.size = fstatSync(this.fd).size
  }

  write(line: string): void {
    const bytes = Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8')
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate()
    writeSync(this.fd, bytes)
    this.size += bytes.length
  }

  private rotate(): void {
    closeSync(this.fd)
    renameSync(this.file, `${this.file}.1`)
    this.fd = openSync(this.file, 'a', privateFileMode)
    this.size = 0
  }
}
