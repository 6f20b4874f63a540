// Output of a benchmark: the machine it ran on and Markdown tables.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release } from 'node:os';

export function machineLine() {
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // nproc is in coreutils; the count from node is the same on Linux without CPU limits.
  }
  return `machine: nproc ${nproc}, ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, kernel ${release()}; ${loadLine()}`;
}

/** Formats the 1-minute load average, because other jobs on a shared machine skew every latency. */
export function loadLine() {
  return `load average (1 min) ${loadavg()[0].toFixed(2)}`;
}

/** Prints a Markdown table; `rows` are arrays of cells in `columns` order. */
export function printTable(title, columns, rows) {
  console.log(`\n### ${title}\n`);
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map((column, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

export const fixed = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function verdict(passed) {
  return passed ? 'PASS' : 'MISS';
}

/** Resident set size of a process in MiB, from /proc/PID/status. */
export async function rssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

/** CPU time of `pids` and their child processes (such as nginx workers), in clock ticks. */
export async function processTreeTicks(pids) {
  let total = 0;
  for (const pid of pids) {
    total += await cpuTicks(pid);
    let children = '';
    try {
      children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
    } catch {
      // pgrep exits 1 when the process has no children.
    }
    for (const child of children.split('\n').filter(Boolean)) total += await cpuTicks(Number(child));
  }
  return total;
}

/** Clock ticks per second of /proc/PID/stat (USER_HZ), which is 100 on Linux. */
export const TICKS_PER_SECOND = 100;

/** User plus system CPU time of a process in clock ticks, from /proc/PID/stat. */
export async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
