import { describe, expect, it } from 'vitest';
import { formatExpiration, renderAssumeRoleResponse } from '../../src/devserver/sts/assume-role.js';
import { parseAssumeRoleForm, parseDurationSeconds } from '../../src/devserver/sts/assume-role-request.js';
import { renderStsError, StsError } from '../../src/devserver/sts/sts-error.js';

const BASE = 'Action=AssumeRole&Version=2011-06-15';

describe('parseDurationSeconds', () => {
  const valid: Array<[string | undefined, number]> = [
    [undefined, 3600],
    ['', 3600],
    ['900', 900],
    ['3600', 3600],
    ['43200', 43_200],
    ['31536000', 31_536_000],
    ['000900', 900],
  ];
  for (const [value, seconds] of valid) {
    it(`parses ${JSON.stringify(value)} as ${seconds}`, () => {
      expect(parseDurationSeconds(value)).toBe(seconds);
    });
  }

  const invalid = ['899', '31536001', '0', '-900', '+900', '900.0', '1e3', 'abc', ' 900', '99999999999999999999'];
  for (const value of invalid) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      const error = stsErrorOf(() => parseDurationSeconds(value));

      expect(error.status).toBe(400);
      expect(error.code).toBe('InvalidParameterValue');
      expect(error.message).toContain('from 900 to 31536000');
    });
  }
});

describe('parseAssumeRoleForm', () => {
  it('reads DurationSeconds and the session Policy', () => {
    const policy = '{"Version":"2012-10-17","Statement":[]}';
    const request = parseAssumeRoleForm(`${BASE}&DurationSeconds=1200&Policy=${encodeURIComponent(policy)}`);

    expect(request).toEqual({ durationSeconds: 1200, sessionPolicy: policy });
  });

  it('ignores the parameters MinIO ignores', () => {
    const request = parseAssumeRoleForm(`${BASE}&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&RoleSessionName=s&ExternalId=e`);

    expect(request).toEqual({ durationSeconds: 3600, sessionPolicy: undefined });
  });

  it('uses the first of repeated parameters', () => {
    expect(parseAssumeRoleForm(`${BASE}&DurationSeconds=900&DurationSeconds=99`).durationSeconds).toBe(900);
  });

  it('decodes plus signs as spaces', () => {
    const request = parseAssumeRoleForm(`${BASE}&Policy=%7B%22Version%22:+%222012-10-17%22%7D`);

    expect(request.sessionPolicy).toBe('{"Version": "2012-10-17"}');
  });

  const rejected: Array<[string, string, string, RegExp]> = [
    ['no Version', 'Action=AssumeRole', 'MissingParameter', /invalid STS API version ""/],
    ['another Version', 'Action=AssumeRole&Version=2012-01-01', 'MissingParameter', /expected Version=2011-06-15/],
    ['no Action', 'Version=2011-06-15', 'InvalidParameterValue', /unsupported action ""/],
    ['AssumeRoleWithWebIdentity', 'Action=AssumeRoleWithWebIdentity&Version=2011-06-15', 'InvalidParameterValue', /only Action=AssumeRole/],
    ['invalid percent-encoding', `${BASE}&Policy=%zz`, 'InvalidParameterValue', /not valid application\/x-www-form-urlencoded/],
    ['a Policy that is not JSON', `${BASE}&Policy=nope`, 'InvalidParameterValue', /not valid JSON/],
    ['a Policy that is an array', `${BASE}&Policy=%5B%5D`, 'InvalidParameterValue', /JSON object with a Version/],
    ['a Policy without Version', `${BASE}&Policy=%7B%7D`, 'InvalidParameterValue', /JSON object with a Version/],
    ['a Policy over 2048 characters', `${BASE}&Policy=${encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Pad: 'x'.repeat(2048) }))}`, 'InvalidParameterValue', /at most 2048/],
    ['DurationSeconds out of range', `${BASE}&DurationSeconds=60`, 'InvalidParameterValue', /DurationSeconds "60"/],
  ];
  for (const [name, body, code, message] of rejected) {
    it(`rejects ${name} with ${code}`, () => {
      const error = stsErrorOf(() => parseAssumeRoleForm(body));

      expect(error.code).toBe(code);
      expect(error.status).toBe(400);
      expect(error.message).toMatch(message);
    });
  }
});

describe('STS XML', () => {
  it('formats Expiration without milliseconds', () => {
    expect(formatExpiration(new Date('2025-03-01T10:15:00.000Z'))).toBe('2025-03-01T10:15:00Z');
  });

  it('renders the AssumeRole response in MinIO element order', () => {
    const xml = renderAssumeRoleResponse(
      { accessKey: 'AKIA0000000000000000', secretKey: 's'.repeat(40), sessionToken: 'token<&>', expiresAt: new Date('2025-03-01T10:15:00Z') },
      'REQ1',
    );

    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>' +
        '<AssumedRoleUser><Arn></Arn><AssumeRoleId></AssumeRoleId></AssumedRoleUser>' +
        `<Credentials><AccessKeyId>AKIA0000000000000000</AccessKeyId><SecretAccessKey>${'s'.repeat(40)}</SecretAccessKey>` +
        '<SessionToken>token&lt;&amp;&gt;</SessionToken><Expiration>2025-03-01T10:15:00Z</Expiration></Credentials>' +
        '</AssumeRoleResult><ResponseMetadata><RequestId>REQ1</RequestId></ResponseMetadata></AssumeRoleResponse>',
    );
  });

  it('renders an error as MinIO ErrorResponse', () => {
    const xml = renderStsError(new StsError(400, 'InvalidParameterValue', 'DurationSeconds "1" & more'), 'REQ2');

    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type></Type><Code>InvalidParameterValue</Code>' +
        '<Message>DurationSeconds &quot;1&quot; &amp; more</Message></Error><RequestId>REQ2</RequestId></ErrorResponse>',
    );
  });
});

function stsErrorOf(action: () => unknown): StsError {
  try {
    action();
  } catch (error) {
    if (error instanceof StsError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected an StsError');
}
