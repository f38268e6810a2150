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

  it('never echoes an unknown scheme, which might be a pasted secret', () => {
    const presented = readAuthorization('ghp_SecretLookingThing value');
    expect(presented.kind === 'malformed' && presented.reason).not.toContain('ghp_');
  });

  it('compares secrets of any length', () => {
    expect(secretsEqual('same', 'same')).toBe(true);
    expect(secretsEqual('same', 'sam')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
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
