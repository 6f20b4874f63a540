import { describe, expect, it } from 'vitest';
import {
  CredentialParseError,
  findAccessKey,
  parseAuthorizationHeader,
  parseRawQuery,
  parseSigV4Scope,
} from '../../src/s3/credentials.js';

const SIGNATURE = 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';
const v4Header = (credential: string): string =>
  `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;x-amz-date, Signature=${SIGNATURE}`;

describe('parseSigV4Scope', () => {
  const valid: Array<[string, string, string]> = [
    ['AKIDEXAMPLE/20240102/us-east-1/s3/aws4_request', 'AKIDEXAMPLE', 'us-east-1'],
    ['team/a/20240102/us-east-1/s3/aws4_request', 'team/a', 'us-east-1'],
    ['a/b/c/20240102/eu-west-3/s3/aws4_request', 'a/b/c', 'eu-west-3'],
  ];
  it.each(valid)('parses %s', (credential, accessKey, region) => {
    const scope = parseSigV4Scope(credential);
    expect(scope.accessKey).toBe(accessKey);
    expect(scope.region).toBe(region);
    expect(scope.date).toBe('20240102');
    expect(scope.service).toBe('s3');
  });

  const invalid: Array<[string, string]> = [
    ['', 'must have the form'],
    ['AKID/20240102/us-east-1/s3', 'must have the form'],
    ['/20240102/us-east-1/s3/aws4_request', 'empty access key'],
    ['AKID/2024-01-02/us-east-1/s3/aws4_request', 'is not YYYYMMDD'],
    ['AKID/20240102/us-east-1/s3/aws4_reques', 'must end with "aws4_request"'],
  ];
  it.each(invalid)('rejects %j', (credential, message) => {
    expect(() => parseSigV4Scope(credential)).toThrow(CredentialParseError);
    expect(() => parseSigV4Scope(credential)).toThrow(message);
  });
});

describe('parseAuthorizationHeader', () => {
  it('parses a SigV4 header', () => {
    const parsed = parseAuthorizationHeader(v4Header('team/a/20240102/us-east-1/s3/aws4_request'));
    expect(parsed.kind).toBe('v4');
    if (parsed.kind !== 'v4') return;
    expect(parsed.scope.accessKey).toBe('team/a');
    expect(parsed.signedHeaders).toEqual(['host', 'x-amz-date']);
    expect(parsed.signature).toBe(SIGNATURE);
  });

  it('parses a SigV4 header without spaces after commas', () => {
    const parsed = parseAuthorizationHeader(
      `AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=${SIGNATURE}`,
    );
    expect(parsed.kind).toBe('v4');
    expect(parsed.kind === 'v4' ? parsed.scope.accessKey : undefined).toBe('AKID');
  });

  it('parses a SigV2 header', () => {
    const parsed = parseAuthorizationHeader('AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=');
    expect(parsed).toEqual({ kind: 'v2', accessKey: 'AKIDEXAMPLE', signature: 'frJIUN8DYpKDtOLCwo//yllqDzg=' });
  });

  const invalid: Array<[string, string, string]> = [
    ['empty value', '', 'InvalidArgument'],
    ['unknown scheme', 'Bearer abc', 'InvalidArgument'],
    ['SigV4a scheme', 'AWS4-ECDSA-P256-SHA256 Credential=x', 'InvalidArgument'],
    ['SigV4 without fields', 'AWS4-HMAC-SHA256 ', 'AuthorizationHeaderMalformed'],
    ['SigV4 missing Signature', 'AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/s3/aws4_request, SignedHeaders=host', 'AuthorizationHeaderMalformed'],
    ['SigV4 truncated credential', 'AWS4-HMAC-SHA256 Credential=AKID/20240102, SignedHeaders=host, Signature=00', 'AuthorizationHeaderMalformed'],
    ['SigV4 field without =', `AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/s3/aws4_request, SignedHeaders=host, ${SIGNATURE}`, 'AuthorizationHeaderMalformed'],
    ['SigV2 without colon', 'AWS AKIDEXAMPLE', 'InvalidArgument'],
    ['SigV2 empty key', 'AWS :signature', 'InvalidArgument'],
    ['SigV2 empty signature', 'AWS AKIDEXAMPLE:', 'InvalidArgument'],
  ];
  it.each(invalid)('rejects %s', (_name, value, code) => {
    let caught: unknown;
    try {
      parseAuthorizationHeader(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CredentialParseError);
    expect((caught as CredentialParseError).s3Code).toBe(code);
  });

  it('keeps a signature fragment out of the error message', () => {
    const value = `AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/s3/aws4_request, SignedHeaders=host, ${SIGNATURE}`;
    expect(() => parseAuthorizationHeader(value)).toThrow(CredentialParseError);
    try {
      parseAuthorizationHeader(value);
    } catch (error) {
      expect((error as Error).message).not.toContain(SIGNATURE);
    }
  });
});

describe('parseRawQuery', () => {
  it('decodes names and values and keeps repeats', () => {
    expect(parseRawQuery('a=1&b=x%20y&a=2&flag&c=p+q')).toEqual([
      ['a', '1'],
      ['b', 'x y'],
      ['a', '2'],
      ['flag', ''],
      ['c', 'p q'],
    ]);
  });

  it('returns nothing for an empty query', () => {
    expect(parseRawQuery('')).toEqual([]);
  });

  it('names the parameter but not the value on bad percent-encoding', () => {
    expect(() => parseRawQuery('X-Amz-Signature=%ZZsecret')).toThrow('"X-Amz-Signature"');
    try {
      parseRawQuery('X-Amz-Signature=%ZZsecret');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });
});

type Expected =
  | { mechanism: string; accessKey?: string }
  | { status: number; code: string };

interface LookupCase {
  name: string;
  authorization: string[];
  query: string;
  expected: Expected;
}

const CREDENTIAL = 'AKIDEXAMPLE/20240102/us-east-1/s3/aws4_request';
const ENCODED_CREDENTIAL = encodeURIComponent(CREDENTIAL);

const lookupCases: LookupCase[] = [
  { name: 'no credentials', authorization: [], query: '', expected: { mechanism: 'anonymous' } },
  { name: 'unrelated query', authorization: [], query: 'list-type=2&prefix=a%20b', expected: { mechanism: 'anonymous' } },
  {
    name: 'credential name only inside a value',
    authorization: [],
    query: 'prefix=X-Amz-Credential',
    expected: { mechanism: 'anonymous' },
  },
  { name: 'SigV4 header', authorization: [v4Header(CREDENTIAL)], query: '', expected: { mechanism: 'v4-header', accessKey: 'AKIDEXAMPLE' } },
  {
    name: 'SigV4 header, key with slashes',
    authorization: [v4Header('org/team/key/20240102/us-east-1/s3/aws4_request')],
    query: 'uploads',
    expected: { mechanism: 'v4-header', accessKey: 'org/team/key' },
  },
  {
    name: 'SigV2 header',
    authorization: ['AWS AKIDV2:c2lnbmF0dXJl'],
    query: '',
    expected: { mechanism: 'v2-header', accessKey: 'AKIDV2' },
  },
  {
    name: 'SigV4 presigned query',
    authorization: [],
    query: `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${ENCODED_CREDENTIAL}&X-Amz-Signature=${SIGNATURE}`,
    expected: { mechanism: 'v4-query', accessKey: 'AKIDEXAMPLE' },
  },
  {
    name: 'SigV4 presigned query, key with encoded slash and plus',
    authorization: [],
    query: `X-Amz-Credential=${encodeURIComponent('a/b+c/20240102/us-east-1/s3/aws4_request')}`,
    expected: { mechanism: 'v4-query', accessKey: 'a/b+c' },
  },
  {
    name: 'SigV4 presigned query, unencoded slashes',
    authorization: [],
    query: `X-Amz-Credential=${CREDENTIAL}`,
    expected: { mechanism: 'v4-query', accessKey: 'AKIDEXAMPLE' },
  },
  {
    name: 'SigV2 presigned query',
    authorization: [],
    query: 'AWSAccessKeyId=AKIDV2&Expires=1700000000&Signature=abc%3D',
    expected: { mechanism: 'v2-query', accessKey: 'AKIDV2' },
  },
  {
    name: 'header and SigV4 query',
    authorization: [v4Header(CREDENTIAL)],
    query: `X-Amz-Credential=${ENCODED_CREDENTIAL}`,
    expected: { status: 400, code: 'InvalidArgument' },
  },
  {
    name: 'header and SigV2 query',
    authorization: ['AWS AKIDV2:c2ln'],
    query: 'AWSAccessKeyId=AKIDV2',
    expected: { status: 400, code: 'InvalidArgument' },
  },
  {
    name: 'SigV4 and SigV2 query',
    authorization: [],
    query: `X-Amz-Credential=${ENCODED_CREDENTIAL}&AWSAccessKeyId=AKIDV2`,
    expected: { status: 400, code: 'InvalidArgument' },
  },
  {
    name: 'repeated X-Amz-Credential',
    authorization: [],
    query: `X-Amz-Credential=${ENCODED_CREDENTIAL}&X-Amz-Credential=${ENCODED_CREDENTIAL}`,
    expected: { status: 400, code: 'InvalidArgument' },
  },
  {
    name: 'two Authorization headers',
    authorization: [v4Header(CREDENTIAL), 'AWS AKIDV2:c2ln'],
    query: '',
    expected: { status: 400, code: 'InvalidArgument' },
  },
  { name: 'empty Authorization header', authorization: [''], query: '', expected: { status: 400, code: 'InvalidArgument' } },
  {
    name: 'truncated SigV4 header',
    authorization: ['AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2024'],
    query: '',
    expected: { status: 400, code: 'AuthorizationHeaderMalformed' },
  },
  {
    name: 'truncated SigV4 query credential',
    authorization: [],
    query: 'X-Amz-Credential=AKIDEXAMPLE%2F20240102',
    expected: { status: 400, code: 'AuthorizationQueryParametersError' },
  },
  {
    name: 'empty SigV4 query credential',
    authorization: [],
    query: 'X-Amz-Credential=&X-Amz-Signature=00',
    expected: { status: 400, code: 'AuthorizationQueryParametersError' },
  },
  {
    name: 'empty AWSAccessKeyId',
    authorization: [],
    query: 'AWSAccessKeyId=&Signature=abc',
    expected: { status: 400, code: 'AuthorizationQueryParametersError' },
  },
  {
    name: 'bad percent-encoding in credential',
    authorization: [],
    query: 'X-Amz-Credential=AKID%ZZ%2F20240102',
    expected: { status: 400, code: 'InvalidArgument' },
  },
  {
    name: 'truncated percent-encoding in credential',
    authorization: [],
    query: 'X-Amz-Credential=AKID%2',
    expected: { status: 400, code: 'InvalidArgument' },
  },
];

describe('findAccessKey', () => {
  it.each(lookupCases)('handles $name', ({ authorization, query, expected }) => {
    const result = findAccessKey(authorization, query);
    if ('status' in expected) {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.status).toBe(expected.status);
      expect(result.error.code).toBe(expected.code);
      return;
    }
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.mechanism).toBe(expected.mechanism);
    if (expected.accessKey !== undefined) {
      expect('accessKey' in result ? result.accessKey : undefined).toBe(expected.accessKey);
    }
  });
});
