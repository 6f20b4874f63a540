import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Returns the pids of the live children of `parentPid` whose command line contains `needle`, from /proc. */
export function childPids(parentPid: number, needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (Number(fields[1]) === parentPid && fields[0] !== 'Z' && cmdline.includes(needle)) {
        pids.push(Number(name));
      }
    } catch {
      // The process exited while the list was read.
    }
  }
  return pids;
}

/** Tells whether a process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Counts the TCP connections that process `pid` holds open to `remotePort` on loopback:
 * the socket inodes among its file descriptors matched against /proc/net/tcp.
 */
export function connectionsTo(pid: number, remotePort: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) {
        inodes.add(match[1] as string);
      }
    } catch {
      // The descriptor was closed while the list was read.
    }
  }
  const portHex = remotePort.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    // Columns: sl, local_address, rem_address, st, tx:rx queue, tr:when, retrnsmt, uid, timeout, inode.
    const remote = columns[2];
    const inode = columns[9];
    if (remote?.endsWith(`:${portHex}`) && inode !== undefined && inodes.has(inode)) {
      count += 1;
    }
  }
  return count;
}
