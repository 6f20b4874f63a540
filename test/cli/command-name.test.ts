import { describe, expect, it } from 'vitest';
import { commandName } from '../../src/cli/main.js';

describe('commandName', () => {
  it.each([
    [['status'], 'status'],
    [['status', '--json'], 'status'],
    [['--config', 'x.yaml', 'up', '--detach'], 'up'],
    [['-c', 'status', 'add', 'alice'], 'add'],
    [['--version'], undefined],
    [['--help'], undefined],
    [[], undefined],
    [['help', 'status'], 'help'],
  ])('finds the command in %j', (args, expected) => {
    expect(commandName(args)).toBe(expected);
  });
});
