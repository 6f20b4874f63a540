import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { addTenantToDocument, newConfigDocument, reattachFollowingComments, removeTenantFromDocument } from '../../src/config/edit.js';

function edited(text: string, edit: (document: ReturnType<typeof parseDocument>) => void): string {
  const document = parseDocument(text);
  reattachFollowingComments(document, text);
  edit(document);
  return String(document);
}

const commented = `# header comment

stateDir: .state # state here
tenants:
  # alice comment
  alice: {}

  # bob comment
  bob:
    port: 9005 # bob port
  carol: # carol inline
  dan:
# proxy section
proxy:
  listen: 127.0.0.1:9000
# end comment
`;

describe('addTenantToDocument', () => {
  const cases: { title: string; text: string; expected: string }[] = [
    { title: 'an empty file', text: '', expected: 'tenants:\n  eve: {}\n' },
    { title: 'an empty tenants key', text: 'tenants:\n', expected: 'tenants:\n  eve: {}\n' },
    { title: 'a file without tenants', text: 'stateDir: x # keep\n', expected: 'stateDir: x # keep\ntenants:\n  eve: {}\n' },
    { title: 'a comment after an empty tenants key', text: 'tenants:\n# trailing\n', expected: 'tenants:\n  eve: {}\n\n# trailing\n' },
  ];

  it.each(cases)('adds a tenant to $title', ({ text, expected }) => {
    expect(edited(text, (document) => addTenantToDocument(document, 'eve', {}))).toBe(expected);
  });

  it('keeps comments, order and the section after tenants', () => {
    const output = edited(commented, (document) => addTenantToDocument(document, 'eve', { port: 9100 }));
    for (const comment of ['# header comment', '# state here', '# alice comment', '# bob comment', '# bob port', '# carol inline', '# end comment']) {
      expect(output).toContain(comment);
    }
    expect(output).toContain('  dan:\n  eve:\n    port: 9100\n# proxy section\nproxy:\n');
  });

  it('writes a header comment into a new file', () => {
    const document = newConfigDocument();
    addTenantToDocument(document, 'eve', {});
    expect(String(document)).toMatch(/^# minio-tenants configuration.*\n#.*\n\ntenants:\n {2}eve: \{\}\n$/);
  });
});

describe('removeTenantFromDocument', () => {
  const cases: { name: string; gone: string[] }[] = [
    { name: 'alice', gone: ['# alice comment', 'alice:'] },
    { name: 'bob', gone: ['# bob comment', '# bob port', 'bob:'] },
    { name: 'carol', gone: ['# carol inline', 'carol:'] },
    { name: 'dan', gone: ['dan:'] },
  ];
  const allComments = ['# header comment', '# state here', '# alice comment', '# bob comment', '# bob port', '# carol inline', '# proxy section', '# end comment'];

  it.each(cases)('removes $name and keeps the comments of the others', ({ name, gone }) => {
    let found = false;
    const output = edited(commented, (document) => {
      found = removeTenantFromDocument(document, name);
    });
    expect(found).toBe(true);
    for (const text of gone) {
      expect(output).not.toContain(text);
    }
    for (const comment of allComments.filter((text) => !gone.includes(text))) {
      expect(output).toContain(comment);
    }
    expect(parseDocument(output).errors).toEqual([]);
  });

  it('leaves no indented blank line when the first tenant goes', () => {
    const output = edited(commented, (document) => removeTenantFromDocument(document, 'alice'));
    expect(output).toContain('tenants:\n  # bob comment\n  bob:');
  });

  it('returns false for a tenant that is not there', () => {
    expect(removeTenantFromDocument(parseDocument('tenants:\n  a: {}\n'), 'b')).toBe(false);
    expect(removeTenantFromDocument(parseDocument('stateDir: x\n'), 'b')).toBe(false);
  });
});
