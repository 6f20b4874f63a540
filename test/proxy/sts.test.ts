import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAssumeRoleResponse } from '../../src/proxy/assume-role-response.js';
import { LearnedKeys } from '../../src/proxy/learned-keys.js';
import { writeRoutesFile } from '../../src/routing/routes-file.js';
import { startDevServer, type DevServerHandle } from '../devserver/helpers.js';
import { Cleanup, closeServer, route, s3ErrorCode, send, sigV4, startTestProxy, type ProxyFixture } from './helpers.js';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function response(root: string, credentials: string, prolog = '<?xml version="1.0" encoding="UTF-8"?>\n'): string {
  return `${prolog}<${root}Response xmlns="${NS}"><${root}Result><AssumedRoleUser><Arn></Arn></AssumedRoleUser><Credentials>${credentials}</Credentials></${root}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></${root}Response>`;
}

const credentials = (key: string, expiration: string): string =>
  `<AccessKeyId>${key}</AccessKeyId><SecretAccessKey>secret/value</SecretAccessKey><SessionToken>token.value</SessionToken><Expiration>${expiration}</Expiration>`;

describe('parseAssumeRoleResponse', () => {
  const expiresAtMs = Date.parse('2026-03-04T05:06:07Z');
  const cases: Array<{ name: string; xml: string; expected: { accessKeyId: string; expiresAtMs: number } | undefined }> = [
    { name: 'AssumeRole', xml: response('AssumeRole', credentials('TEMPKEY1', '2026-03-04T05:06:07Z')), expected: { accessKeyId: 'TEMPKEY1', expiresAtMs } },
    { name: 'web identity', xml: response('AssumeRoleWithWebIdentity', credentials('TEMPKEY2', '2026-03-04T05:06:07Z')), expected: { accessKeyId: 'TEMPKEY2', expiresAtMs } },
    { name: 'no XML declaration', xml: response('AssumeRoleWithLDAPIdentity', credentials('TEMPKEY3', '2026-03-04T05:06:07Z'), ''), expected: { accessKeyId: 'TEMPKEY3', expiresAtMs } },
    {
      name: 'pretty-printed',
      xml: response('AssumeRole', `\n    <AccessKeyId>\n      TEMPKEY4\n    </AccessKeyId>\n    <Expiration>2026-03-04T05:06:07.000Z</Expiration>\n  `),
      expected: { accessKeyId: 'TEMPKEY4', expiresAtMs },
    },
    {
      name: 'namespace prefix',
      xml: `<sts:AssumeRoleResponse xmlns:sts="${NS}"><sts:AssumeRoleResult><sts:Credentials><sts:AccessKeyId>TEMPKEY5</sts:AccessKeyId><sts:Expiration>2026-03-04T05:06:07Z</sts:Expiration></sts:Credentials></sts:AssumeRoleResult></sts:AssumeRoleResponse>`,
      expected: { accessKeyId: 'TEMPKEY5', expiresAtMs },
    },
    { name: 'offset time', xml: response('AssumeRole', credentials('TEMPKEY6', '2026-03-04T06:06:07+01:00')), expected: { accessKeyId: 'TEMPKEY6', expiresAtMs } },
    { name: 'error response', xml: `<ErrorResponse xmlns="${NS}"><Error><Code>AccessDenied</Code></Error></ErrorResponse>`, expected: undefined },
    { name: 'S3 document', xml: '<ListAllMyBucketsResult><Credentials><AccessKeyId>X</AccessKeyId><Expiration>2026-03-04T05:06:07Z</Expiration></Credentials></ListAllMyBucketsResult>', expected: undefined },
    { name: 'missing Expiration', xml: response('AssumeRole', '<AccessKeyId>TEMPKEY7</AccessKeyId>'), expected: undefined },
    { name: 'missing AccessKeyId', xml: response('AssumeRole', '<Expiration>2026-03-04T05:06:07Z</Expiration>'), expected: undefined },
    { name: 'empty AccessKeyId', xml: response('AssumeRole', credentials('', '2026-03-04T05:06:07Z')), expected: undefined },
    { name: 'date without time', xml: response('AssumeRole', credentials('TEMPKEY8', '2026-03-04')), expected: undefined },
    { name: 'invalid date', xml: response('AssumeRole', credentials('TEMPKEY9', '2026-13-45T05:06:07Z')), expected: undefined },
    { name: 'truncated body', xml: response('AssumeRole', credentials('TEMPKEY10', '2026-03-04T05:06:07Z')).slice(0, 200), expected: undefined },
    { name: 'empty body', xml: '', expected: undefined },
  ];

  it.each(cases)('parses $name', ({ xml, expected }) => {
    expect(parseAssumeRoleResponse(xml)).toEqual(expected);
  });

  it('returns no secret or token', () => {
    const parsed = parseAssumeRoleResponse(response('AssumeRole', credentials('TEMPKEY', '2026-03-04T05:06:07Z')));

    expect(JSON.stringify(parsed)).not.toContain('secret/value');
    expect(JSON.stringify(parsed)).not.toContain('token.value');
  });
});

describe('LearnedKeys', () => {
  it('forgets keys at their expiry', () => {
    let now = 1_000;
    const keys = new LearnedKeys(10, () => now);

    expect(keys.learn('K1', 'a', 2_000)).toBe(true);
    expect(keys.learn('K0', 'a', 1_000)).toBe(false);
    expect(keys.tenantFor('K1')).toBe('a');
    now = 2_000;
    expect(keys.tenantFor('K1')).toBeUndefined();
    expect(keys.size).toBe(0);
  });

  it('keeps keys of remaining tenants', () => {
    const keys = new LearnedKeys(10, () => 0);
    keys.learn('KA', 'a', 100);
    keys.learn('KB', 'b', 100);

    keys.retainTenants(new Set(['a', 'c']));

    expect(keys.tenantFor('KA')).toBe('a');
    expect(keys.tenantFor('KB')).toBeUndefined();
  });

  it('evicts expired, then oldest keys when full', () => {
    let now = 0;
    const keys = new LearnedKeys(2, () => now);
    keys.learn('SHORT', 'a', 10);
    keys.learn('LONG1', 'a', 1_000);
    now = 20;

    keys.learn('LONG2', 'a', 1_000);
    keys.learn('LONG3', 'a', 1_000);

    expect(keys.size).toBe(2);
    expect(keys.tenantFor('SHORT')).toBeUndefined();
    expect(keys.tenantFor('LONG1')).toBeUndefined();
    expect(keys.tenantFor('LONG2')).toBe('a');
    expect(keys.tenantFor('LONG3')).toBe('a');
  });

  it('moves a relearned key to its new tenant', () => {
    const keys = new LearnedKeys(10, () => 0);
    keys.learn('K', 'a', 100);
    keys.learn('K', 'b', 100);

    expect(keys.tenantFor('K')).toBe('b');
  });
});

describe('proxy STS with development servers', () => {
  const cleanup = new Cleanup();
  let tenantA: DevServerHandle;
  let tenantB: DevServerHandle;
  let fixture: ProxyFixture;

  beforeAll(async () => {
    tenantA = await startDevServer();
    cleanup.add(() => tenantA.stop().then(() => undefined));
    tenantB = await startDevServer();
    cleanup.add(() => tenantB.stop().then(() => undefined));
    fixture = await startTestProxy(cleanup, tableWith(true));
  });

  afterAll(() => cleanup.run());

  function tableWith(includeB: boolean) {
    const a = route('a', tenantA.url, [tenantA.accessKey]);
    return includeB ? [a, route('b', tenantB.url, [tenantB.accessKey])] : [a];
  }

  function s3(accessKeyId: string, secretAccessKey: string, sessionToken?: string): S3Client {
    const client = new S3Client({
      endpoint: fixture.proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) },
    });
    cleanup.add(() => client.destroy());
    return client;
  }

  async function assumeRoleAs(tenant: DevServerHandle) {
    const sts = new STSClient({
      endpoint: fixture.proxy.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey },
    });
    cleanup.add(() => sts.destroy());
    const output = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:minio:iam:::role/dev', RoleSessionName: 'proxy-test', DurationSeconds: 900 }));
    const issued = output.Credentials!;
    return { accessKeyId: issued.AccessKeyId!, secretAccessKey: issued.SecretAccessKey!, sessionToken: issued.SessionToken! };
  }

  async function errorName(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      return (error as S3ServiceException).name;
    }
    return 'no error';
  }

  it('routes temporary keys to the issuing tenant', async () => {
    const temporary = await assumeRoleAs(tenantB);
    const client = s3(temporary.accessKeyId, temporary.secretAccessKey, temporary.sessionToken);

    await client.send(new CreateBucketCommand({ Bucket: 'made-with-sts' }));

    const rootB = s3(tenantB.accessKey, tenantB.secretKey);
    const rootA = s3(tenantA.accessKey, tenantA.secretKey);
    await rootB.send(new HeadBucketCommand({ Bucket: 'made-with-sts' }));
    const bucketsOfA = await rootA.send(new ListBucketsCommand({}));
    expect(bucketsOfA.Buckets?.map((bucket) => bucket.Name) ?? []).not.toContain('made-with-sts');
    const learned = fixture.logs.find((record) => record.msg === 'temporary access key learned');
    expect(learned?.tenant).toBe('b');
    expect(learned?.accessKey).toBe(temporary.accessKeyId);
    const logText = JSON.stringify(fixture.logs);
    expect(logText).not.toContain(temporary.secretAccessKey);
    expect(logText).not.toContain(temporary.sessionToken);
  });

  it('keeps temporary keys across reloads while the tenant stays', async () => {
    const temporary = await assumeRoleAs(tenantB);
    const client = s3(temporary.accessKeyId, temporary.secretAccessKey, temporary.sessionToken);

    await writeRoutesFile(fixture.routesFile, [...tableWith(true)].reverse());
    await fixture.proxy.reload();
    const afterReload = await client.send(new ListBucketsCommand({}));
    await writeRoutesFile(fixture.routesFile, tableWith(false));
    await fixture.proxy.reload();
    const afterRemoval = await errorName(client.send(new ListBucketsCommand({})));
    await writeRoutesFile(fixture.routesFile, tableWith(true));
    await fixture.proxy.reload();
    const afterReturn = await errorName(client.send(new ListBucketsCommand({})));

    expect(afterReload.$metadata.httpStatusCode).toBe(200);
    expect(afterRemoval).toBe('InvalidAccessKeyId');
    // The tenant came back, but the proxy forgot its keys when it left.
    expect(afterReturn).toBe('InvalidAccessKeyId');
  });
});

describe('proxy STS learning rules', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** Starts an upstream that sends `body` for `POST /` and 200 `routed` for any other request. */
  async function fakeSts(status: number, contentType: string, body: string): Promise<string> {
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.method === 'POST' && req.url === '/') {
        res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('routed');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => closeServer(server));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const future = new Date(Date.now() + 3_600_000).toISOString();
  const cases = [
    { name: 'learns a valid response', status: 200, contentType: 'text/xml; charset=UTF-8', body: response('AssumeRole', credentials('FAKETEMP', future)), learned: true },
    { name: 'ignores an expired key', status: 200, contentType: 'application/xml', body: response('AssumeRole', credentials('FAKETEMP', '2001-01-01T00:00:00Z')), learned: false },
    { name: 'ignores an error status', status: 403, contentType: 'application/xml', body: response('AssumeRole', credentials('FAKETEMP', future)), learned: false },
    { name: 'ignores a non-XML body', status: 200, contentType: 'text/plain', body: response('AssumeRole', credentials('FAKETEMP', future)), learned: false },
    {
      name: 'ignores a body beyond the bound',
      status: 200,
      contentType: 'application/xml',
      body: response('AssumeRole', credentials('FAKETEMP', future)).replace('<ResponseMetadata>', `<Padding>${'p'.repeat(70 * 1024)}</Padding><ResponseMetadata>`),
      learned: false,
    },
  ];

  it.each(cases)('$name', async ({ status, contentType, body, learned }) => {
    const upstream = await fakeSts(status, contentType, body);
    const { proxy } = await startTestProxy(cleanup, [route('fake', upstream, ['AKIAFAKEROOT'])]);
    const stsHeaders = ['Authorization', sigV4('AKIAFAKEROOT'), 'Content-Type', 'application/x-www-form-urlencoded'];

    const sts = await send(proxy.url, { method: 'POST', path: '/', headers: stsHeaders, body: 'Action=AssumeRole&Version=2011-06-15' });
    const withTemporaryKey = await send(proxy.url, { path: '/bucket', headers: ['Authorization', sigV4('FAKETEMP')] });

    expect(sts.status).toBe(status);
    expect(sts.body.toString()).toBe(body);
    if (learned) {
      expect(withTemporaryKey.status).toBe(200);
      expect(withTemporaryKey.body.toString()).toBe('routed');
    } else {
      expect(withTemporaryKey.status).toBe(403);
      expect(s3ErrorCode(withTemporaryKey.body)).toBe('InvalidAccessKeyId');
    }
  });

  it('never overrides a configured key', async () => {
    const upstream = await fakeSts(200, 'application/xml', response('AssumeRole', credentials('AKIAOTHER', future)));
    const other = await fakeSts(200, 'text/plain', 'unused');
    const { proxy } = await startTestProxy(cleanup, [route('fake', upstream, ['AKIAFAKEROOT']), route('other', other, ['AKIAOTHER'])]);

    await send(proxy.url, { method: 'POST', path: '/', headers: ['Authorization', sigV4('AKIAFAKEROOT'), 'Content-Type', 'application/x-www-form-urlencoded'], body: 'Action=AssumeRole' });
    const response2 = await send(proxy.url, { method: 'POST', path: '/', headers: ['Authorization', sigV4('AKIAOTHER'), 'Content-Type', 'text/plain'], body: 'x' });

    expect(response2.body.toString()).toBe('unused');
  });
});
