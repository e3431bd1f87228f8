// What the kernel says about a process: its CPU time and memory, from /proc (Linux only).
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU time of every thread of `pid` so far, in µs (resolution: one clock tick, 10 ms). */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const [utime, stime] = [Number(fields[11]), Number(fields[12])]
  return ((utime + stime) * 1e6) / clockTicksPerSecond
}

/** Resident memory now (VmRSS) and at its peak so far (VmHWM), in MiB. */
export function memoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
  return {rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024}
}
