import { isProviderAccessToken } from '../access/provider-bearer';
import { redirectUriProblem } from './redirect-uris';

describe('redirectUriProblem (API.md 15)', () => {
  it.each([
    'https://app.example.org/callback',
    'https://app.example.org/cb?tenant=a',
    'http://127.0.0.1:8080/callback',
    'http://localhost:3000/cb',
    'http://[::1]:9/cb',
  ])('accepts %s outside production', (uri) => expect(redirectUriProblem(uri, false)).toBeUndefined());

  it.each([
    ['https://app.example.org/cb/..;/x', /dot segments/],
    ['https://app.example.org/cb/../x', /written as|dot segments/],
    ['https://user@app.example.org/cb', /userinfo/],
    ['https://app.example.org/cb#frag', /fragment/],
    ['https://*.example.org/cb', /wildcard/],
    ['http://app.example.org/cb', /https/],
    ['http://localhost.evil/cb', /https/],
    ['https://app.example.org/cb/%2e%2e/', /percent-encoded/],
    ['https://app.example.org', /written as https:\/\/app.example.org\//],
    ['HTTPS://app.example.org/cb', /written as/],
    ['https://app.example.org/c b', /spaces/],
    ['https://app.example.org/c\\b', /backslash/],
    ['app.example.org/cb', /absolute/],
    ['javascript:alert(1)', /https/],
  ])('refuses %s', (uri, problem) => expect(redirectUriProblem(uri, false)).toMatch(problem));

  it('refuses http on loopback in production', () => {
    expect(redirectUriProblem('http://127.0.0.1:8080/cb', true)).toMatch(/production/);
  });
});

describe('isProviderAccessToken', () => {
  const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
  it('tells the provider’s tokens (kid oauth-…) from the sign-in JWTs', () => {
    expect(isProviderAccessToken(`Bearer ${header({ alg: 'ES256', kid: 'oauth-abc' })}.e30.sig`)).toBe(true);
    expect(isProviderAccessToken(`Bearer ${header({ alg: 'ES256', kid: 'abcdefabcdefabcdef' })}.e30.sig`)).toBe(false);
    expect(isProviderAccessToken(`Bearer ${header({ alg: 'HS256', typ: 'at+jwt' })}.e30.sig`)).toBe(false);
    expect(isProviderAccessToken('Bearer not-a-jwt')).toBe(false);
    expect(isProviderAccessToken(`Bearer ${'a'.repeat(600)}.e30.sig`)).toBe(false);
  });
});
