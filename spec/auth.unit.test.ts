import { RE2JS } from 're2js';
import { generateApiKey, hashApiKey } from '../src/auth/api-key.service';
import { readAuthorization, secretsEqual } from '../src/auth/credentials';
import { ruleAllows } from '../src/auth/guards';
import { ConfigurationError } from '../src/options';
import { loadConfig } from '../src/server/config';

describe('reading credentials', () => {
  it('splits Basic credentials at the first colon only, so passwords may hold colons', () => {
    const header = `Basic ${Buffer.from('admin:a:b:c').toString('base64')}`;
    expect(readAuthorization(header)).toEqual({ kind: 'basic', username: 'admin', password: 'a:b:c' });
  });

  it.each([
    ['a Bearer without a key', 'Bearer'],
    ['a key with characters no key has', 'Bearer abc$def'],
    ['an unknown scheme', 'Token abcdef'],
    ['Basic without a colon', `Basic ${Buffer.from('admin').toString('base64')}`],
  ])('calls %s malformed', (_label, header) => {
    expect(readAuthorization(header).kind).toBe('malformed');
  });

  it.each([
    ['no space between scheme and credentials', 'Bearer', 'the Authorization header is not "<scheme> <credentials>"'],
    ['a Bearer key with characters no key has', 'Bearer abc$def', 'the API key is malformed'],
    [
      'Basic credentials without a colon',
      `Basic ${Buffer.from('admin').toString('base64')}`,
      'the Basic credentials are malformed',
    ],
    [
      'a scheme other than Basic and Bearer',
      'Token abcdef',
      'the Authorization scheme is not supported; use Basic or Bearer',
    ],
    [
      'a scheme other than Basic and Bearer, with base64 after it',
      `Digest ${Buffer.from('u:p').toString('base64')}`,
      'the Authorization scheme is not supported; use Basic or Bearer',
    ],
  ])('names what is wrong: %s', (_label, header, reason) => {
    expect(readAuthorization(header)).toEqual({ kind: 'malformed', reason });
  });

  it('takes every space or tab between scheme and credentials as the separator', () => {
    expect(readAuthorization('Bearer \t  abc')).toEqual({ kind: 'bearer', key: 'abc' });
    expect(readAuthorization(`Basic\t\t${Buffer.from('u:p').toString('base64')}`)).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
  });

  it('never echoes an unknown scheme, which might be a pasted secret', () => {
    const presented = readAuthorization('ghp_SecretLookingThing value');
    expect(presented.kind === 'malformed' && presented.reason).not.toContain('ghp_');
  });

  it('compares secrets of any length', () => {
    expect(secretsEqual('same', 'same')).toBe(true);
    expect(secretsEqual('same', 'sam')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });

  it('compares in constant time whatever the lengths: no throw, and a prefix or an extension is not equal', () => {
    const expected = 'a'.repeat(64);
    expect(secretsEqual(expected.slice(0, 63), expected)).toBe(false);
    expect(secretsEqual(`${expected}a`, expected)).toBe(false);
    expect(secretsEqual('b'.repeat(64), expected)).toBe(false);
    expect(secretsEqual('', '')).toBe(true);
    expect(secretsEqual('pässwörd', 'pässwörd')).toBe(true);
    expect(secretsEqual('pässwörd', 'passwörd')).toBe(false);
  });
});

describe('API keys as DevLake makes them (contract §8)', () => {
  it('generates 128 characters of [A-Za-z0-9], never twice the same', () => {
    const keys = new Set(Array.from({ length: 50 }, () => generateApiKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9]{128}$/);
  });

  it('hashes as HMAC-SHA256(secret trimmed, key) in lowercase hex', () => {
    // Computed apart, with Python: hmac.new(b'secret', b'key', hashlib.sha256).hexdigest().
    expect(hashApiKey(' secret\n', 'key')).toBe('96de09a0f8699191b28587118ac57df88bbf6c2d0c131d196dcd90f7efd68c93');
  });
});

describe('key rules, anchored (contract §8, §9)', () => {
  it.each([
    ['.*', '/api-keys', true],
    ['/plugins/webhook/connections/1/.*', '/plugins/webhook/connections/1/deployments', true],
    ['/plugins/webhook/connections/1/.*', '/plugins/webhook/connections/12/deployments', false],
    ['/plugins/webhook/connections/1/.*', '/x/plugins/webhook/connections/1/deployments', false],
    ['/plugins/webhook/connections', '/plugins/webhook/connections/1', false],
    ['a|/api-keys', '/api-keys/1', false],
    ['x)|(.*', '/anything', false],
    ['(unclosed', '/anything', false],
  ])('rule %s on %s: %s', (rule, path, allowed) => {
    expect(ruleAllows(rule, path)).toBe(allowed);
  });
});

describe('compiled key rules, kept within a bound', () => {
  it('compiles a rule once however often it is used, and forgets every rule past 1001 of them', () => {
    const compile = jest.spyOn(RE2JS, 'compile');
    try {
      let fresh = 0;
      const newRule = () => `/bound/${fresh++}`;
      const compiles = () => compile.mock.calls.length;
      const first = newRule();
      ruleAllows(first, '/x');
      const once = compiles();
      ruleAllows(first, '/x');
      ruleAllows(first, first);
      expect(compiles()).toBe(once);

      // Other tests kept some rules already: add new ones until `first` is forgotten (it then
      // compiles again), which leaves exactly two kept, the last new one and `first`.
      let rounds = 0;
      for (let forgotten = false; !forgotten && rounds <= 1001; rounds += 1) {
        ruleAllows(newRule(), '/x');
        const before = compiles();
        ruleAllows(first, '/x');
        forgotten = compiles() > before;
      }
      expect(rounds).toBeLessThanOrEqual(1001);

      // 999 more new rules make 1001 kept: `first` is still known.
      for (let i = 0; i < 999; i += 1) ruleAllows(newRule(), '/x');
      let before = compiles();
      ruleAllows(first, '/x');
      expect(compiles()).toBe(before);
      // One more, and the rules kept so far are all forgotten.
      ruleAllows(newRule(), '/x');
      before = compiles();
      ruleAllows(first, '/x');
      expect(compiles()).toBe(before + 1);
    } finally {
      compile.mockRestore();
    }
  });
});

describe('the secure default of the standalone server (issue 5 §5)', () => {
  it.each([['0.0.0.0'], ['::'], ['10.1.2.3'], ['::ffff:127.0.0.1']])(
    'refuses %s without credentials, naming HOST',
    (host) => {
      expect(() => loadConfig({ HOST: host })).toThrow(ConfigurationError);
      expect(() => loadConfig({ HOST: host })).toThrow(/^HOST: .*set ADMIN_USER and ADMIN_PASS/);
    },
  );

  it.each([['127.0.0.1'], ['localhost'], ['::1'], [undefined]])(
    'listens on loopback %s without credentials',
    (host) => {
      expect(loadConfig(host ? { HOST: host } : {}).host).toMatch(/^(127\.0\.0\.1|localhost|::1)$/);
    },
  );

  it('listens anywhere with ADMIN_USER and ADMIN_PASS, or with the explicit opt-out', () => {
    expect(loadConfig({ HOST: '0.0.0.0', ADMIN_USER: 'a', ADMIN_PASS: 'b' }).basicAuth).toEqual({
      username: 'a',
      password: 'b',
    });
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).allowUnauthenticated).toBe(true);
    expect(() => loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'maybe' })).toThrow(/^ALLOW_UNAUTHENTICATED:/);
  });
});
