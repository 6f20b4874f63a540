import chalk from 'chalk';
import type { Command } from 'commander';
import { resolveConfigPath } from '../config/load.js';

/** chalk turns colour off by itself when stdout is not a TTY or NO_COLOR is set. */
export const colors = chalk;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printError(message: string): void {
  process.stderr.write(`${chalk.red('error:')} ${message}\n`);
}

export function printWarning(message: string): void {
  process.stderr.write(`${chalk.yellow('warning:')} ${message}\n`);
}

/** The config file chosen by the global `--config` option, the environment or the default. */
export function configPathOf(command: Command): string {
  const options = command.optsWithGlobals<{ config?: string }>();
  return resolveConfigPath(options.config, process.env);
}
