import {Console} from 'node:console'
import type {Writable} from 'node:stream'

import {Chalk, type ChalkInstance} from 'chalk'

/** One place output goes, with the colours fit for it. */
export interface Channel {
  /** Writes `text` and a line break. */
  line(text: string): void
  /** Writes `text` (or bytes, such as a DER certificate) as it comes (a log file still ends it with a line break). */
  write(text: string | Uint8Array): void
  color: ChalkInstance
  /** Whether a person reads it at a terminal (a QR code is printed only there). */
  isTerminal: boolean
}

/**
 * Where a command writes: `out` for data (stdout), `err` for guidance, warnings and failures (stderr).
 * Passed to every render function, so nothing in the program decides it behind a command's back.
 */
export interface Output {
  out: Channel
  err: Channel
}

type TerminalStream = Writable & {isTTY?: boolean}

/** chalk does not check NO_COLOR by itself: no colour when it is set or the stream is not a terminal. */
function colorFor(stream: TerminalStream, env: NodeJS.ProcessEnv): ChalkInstance {
  return new Chalk({level: env.NO_COLOR !== undefined || !stream.isTTY ? 0 : 1})
}

/**
 * Output to the terminal (or whatever stdout and stderr are), each stream coloured only when it is a
 * terminal. Lines go through a Console, which ignores a closed pipe (`homeauth logs | head -1`).
 */
export function createTerminalOutput(
  stdout: TerminalStream,
  stderr: TerminalStream,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  const console = new Console({stdout, stderr})
  return {
    out: {
      line: (text) => console.log(text),
      write: (text) => void stdout.write(text),
      color: colorFor(stdout, env),
      isTerminal: stdout.isTTY === true,
    },
    err: {
      line: (text) => console.error(text),
      write: (text) => void stderr.write(text),
      color: colorFor(stderr, env),
      isTerminal: stderr.isTTY === true,
    },
  }
}

/** Output of a detached server: data and diagnostics alike go to its log file, without colour. */
export function createLogFileOutput(log: {write(line: string): void}): Output {
  const channel: Channel = {
    line: (text) => log.write(`${text}\n`),
    write: (text) => log.write(typeof text === 'string' ? text : new TextDecoder().decode(text)),
    color: new Chalk({level: 0}),
    isTerminal: false,
  }
  return {out: channel, err: channel}
}
