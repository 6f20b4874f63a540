import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../../src/config/units.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['0s', 0],
  ])('reads %j as %d ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(['30', 's', '10x', '-1s', '1 h', '1d', ''])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseSize', () => {
  it.each([
    ['512B', 512],
    ['64KiB', 65_536],
    ['10MiB', 10_485_760],
    ['1GiB', 1_073_741_824],
  ])('reads %j as %d bytes', (text, expected) => {
    expect(parseSize(text)).toBe(expected);
  });

  it.each(['10MB', '10', 'MiB', '1.5MiB', '-1KiB'])('rejects %j', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});
