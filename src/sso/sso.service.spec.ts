import type { AppConfig } from '../config/config';
import { SsoService } from './sso.service';

describe('SsoService.checkRedirect (where a one-time code may be sent)', () => {
  const config = {
    portalUrl: 'https://portal.example.org/app',
    ssoRedirectOrigins: ['https://other.example.org'],
  } as AppConfig;
  const none = undefined as never;
  const sut = new SsoService(none, none, none, none, none, none, none, none, config);

  it.each([
    'https://portal.example.org/app',
    'https://portal.example.org/app/sso/done?next=%2Fhome',
    'https://other.example.org/anything',
  ])('accepts %s', (uri) => expect(sut.checkRedirect(uri)).toBe(new URL(uri).href));

  it.each([
    ['another origin', 'https://evil.example/app'],
    ['a sibling path that shares the prefix', 'https://portal.example.org/application'],
    ['a path outside PORTAL_URL', 'https://portal.example.org/admin'],
    ['a dot-segment walk out of it', 'https://portal.example.org/app/../admin'],
    ['another scheme on the portal host', 'http://portal.example.org/app'],
    ['another port', 'https://portal.example.org:8443/app'],
    ['credentials that hide the host', 'https://portal.example.org@evil.example/app'],
    ['a fragment', 'https://portal.example.org/app#x'],
    ['a relative URL', '/app/sso'],
    ['a script URL', 'javascript:alert(1)'],
    ['nothing', undefined],
  ])('refuses %s', (_what, uri) => {
    expect(() => sut.checkRedirect(uri)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });
});
